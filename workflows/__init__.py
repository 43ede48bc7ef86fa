"""Temporal workflows: deterministic, no I/O; side effects are activities called by name."""
