"""Benchmarks (`nox -s bench`): figures, not asserts, written to bench/results/latest.json."""
