"""Benchmarks: `make bench` runs them all and prints rows for bench/README.md."""
