"""Benchmarks and evaluations: `python -m bench.run` writes its figures to bench/results/."""
