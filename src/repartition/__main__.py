"""``python -m repartition``: the same as the ``repartition`` console command."""

import sys

from repartition.cli import main

sys.exit(main())
