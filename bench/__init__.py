"""Benchmarks that print numbers (`python -m bench <name>|all`). Targets are stated, not asserted."""
