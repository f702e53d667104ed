"""Numba kernels: pure functions on contiguous float64 arrays, no pandas, no validation.

One module per rule, each with its row-major (``*_rows``) and member-major (``*_members``)
kernels side by side and a ``run()`` that picks the one for the data's layout and returns
plain arrays (allocated, grid_supply, self_consumed, surplus, and what else the rule
produces), which the keys of :mod:`repartition.keys` wrap:

- :mod:`~repartition.kernels.prorata`, :mod:`~repartition.kernels.static`,
  :mod:`~repartition.kernels.water_filling` (static with redistribution),
  :mod:`~repartition.kernels.dynamic`: the pooled rules;
- :mod:`~repartition.kernels.full_dynamic`: a share per producer, consumer and step;
- :mod:`~repartition.kernels.greedy`: the economic greedy;
- :mod:`~repartition.kernels.prosumer` (fixed and relative) and
  :mod:`~repartition.kernels.prosumer_optimal`: the prosumer keys;
- :mod:`~repartition.kernels.merit_order`: crediting shared energy to plants in order (the
  Italian key), plain NumPy;
- :mod:`~repartition.kernels.shapley`: the Shapley value of the prorata key;
- :mod:`~repartition.kernels.checks`: one-pass scans used by input validation.

What the rules share: :mod:`~repartition.kernels.layout` (the only module that knows memory
layouts), :mod:`~repartition.kernels.members` (the member-major toolkit: chunks of members,
per-step sums), :mod:`~repartition.kernels.attribution` (``P_tot`` and the pooled
AUTOPROD/SURPLUS) and :mod:`~repartition.kernels._config` (the Numba decorators). A kernel
module imports numpy, numba and these, never another module's private names.

Their NumPy twins are in :mod:`repartition.reference`, in the same order.
"""
