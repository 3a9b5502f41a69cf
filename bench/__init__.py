"""Benchmarks: how close abxero runs to its limits, as ratios measured in one run.

Run ``python -m bench`` (``make bench``) or ``python -m bench --quick``; each benchmark prints a
table and all of them land in ``bench/results.json``. These are measurements, not tests.
"""
