"""Data in and out: the DSO's files, key files, and Parquet datasets.

A PMO (*personne morale organisatrice*) reads the load curves the DSO exports, shares a
month, and sends the DSO a key file; a researcher keeps years of data in Parquet and
allocates them month by month. The walk-through is in docs/io.md.

- DSO load curves: :func:`read_load_curves` (Enedis CSV: mean power in W, end-of-step
  local time) -> :class:`LoadCurves` (kWh per step start, UTC, holes listed).
- Results as the DSO reports them: :func:`dso_results`, :func:`monthly_totals` and their
  CSV writers.
- Dynamic key files: :func:`write_dynamic_key` (whole local days, rounded down to 0.01 %
  or ``rounding="recover"``, the energy lost reported), :func:`write_full_dynamic_key`,
  :func:`read_dynamic_key`, :func:`read_full_dynamic_key`.
- A PMO's month in one call: :func:`prepare_month` (exports in; key file, per-step
  results, monthly totals and the missing values its ``holes`` policy filled out), also as
  the console command ``repartition month``.
- Parquet datasets partitioned by local month (``month=YYYY-MM``): :func:`write_energy`
  and :func:`read_energy` (long or wide; a date range, months or members are read without
  the rest), :func:`write_results` and :func:`read_results` (AUTOCONS, COMPLEMENT,
  AUTOPROD, SURPLUS), and :func:`allocate_dataset`, which allocates a dataset month by
  month in the memory of one month, with a progress bar, and resumes an interrupted run.
- Spanish hourly coefficients: :func:`write_spanish_coefficients`,
  :func:`read_spanish_coefficients`.

Every writer checks its values, then writes to a temporary name and renames, so no partial
file is ever left; every reader raises a :class:`repartition.errors.FileFormatError` (or an
older family's error) naming the file, line, PRM and timestamp at fault, and an
:class:`~repartition.errors.EncodingError` (line and byte offset) for bytes that are not
text. The text readers take paths or file-like objects (``io.BytesIO``, ``io.StringIO``,
open files), the text writers paths or writable buffers.
"""

from repartition.io.dso import (
    dso_results,
    monthly_totals,
    write_dso_results,
    write_monthly_totals,
)
from repartition.io.enedis import LoadCurves, read_load_curves
from repartition.io.keyfile import (
    KeyFile,
    KeyFileName,
    read_dynamic_key,
    read_full_dynamic_key,
    round_down_key,
    write_dynamic_key,
    write_full_dynamic_key,
)
from repartition.io.monthly import MonthFiles, prepare_month, read_static_coefficients
from repartition.io.operations import list_operations, operation_path, write_operations
from repartition.io.parquet import (
    ResultTables,
    dataset_months,
    read_energy,
    read_results,
    write_energy,
    write_results,
)
from repartition.io.spain import (
    SpanishCoefficients,
    read_spanish_coefficients,
    write_spanish_coefficients,
)
from repartition.io.stream import StreamSummary, allocate_dataset

__all__ = [
    "KeyFile",
    "KeyFileName",
    "LoadCurves",
    "MonthFiles",
    "ResultTables",
    "SpanishCoefficients",
    "StreamSummary",
    "allocate_dataset",
    "dataset_months",
    "dso_results",
    "list_operations",
    "monthly_totals",
    "operation_path",
    "prepare_month",
    "read_dynamic_key",
    "read_energy",
    "read_full_dynamic_key",
    "read_load_curves",
    "read_results",
    "read_spanish_coefficients",
    "read_static_coefficients",
    "round_down_key",
    "write_dso_results",
    "write_dynamic_key",
    "write_energy",
    "write_full_dynamic_key",
    "write_monthly_totals",
    "write_operations",
    "write_results",
    "write_spanish_coefficients",
]
