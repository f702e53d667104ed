"""Writing a :class:`~repartition.report.MonthReport` as CSV, Excel and HTML."""
