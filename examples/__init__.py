"""Worked examples, installed as ``crossroads.examples`` (``examples/`` in the repository)."""
