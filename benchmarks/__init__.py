"""Benchmarks of repartition against the memory-bandwidth floor and pandas (docs/performance.md)."""
