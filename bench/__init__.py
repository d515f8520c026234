"""Benchmarks for docs/targets.md (speed targets): `make bench` / `python -m bench.run`.

See bench/README.md for what each figure means and bench/RESULTS.md for the latest run.
Everything is measured from the outside (CLI subprocesses, HTTP, the public Python API),
so the numbers mean what a user would see.
"""
