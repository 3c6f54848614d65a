"""Benchmarks and data generators; run with `make bench` (not part of `make test`)."""
