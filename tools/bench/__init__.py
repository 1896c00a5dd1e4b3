"""Benchmarks of the agent against a floor doing the same work by hand.

Each scenario measures the agent and its floor side by side, interleaved
so that load on a shared machine hits both alike, and reports the median
of the paired ratios (agent / floor) with the raw samples. Only ratios
measured together in one run mean anything. ``python -m tools.bench``
(``tools/tox -e bench``) runs them all; see :mod:`tools.bench.runner`.
"""
