"""abxero-sim: stateful fakes of Xero and Amazon Business, and the demo world built on them.

Its own distribution (``sim/pyproject.toml``), never part of the product wheel. It may use the
product's code (``abxero``); the product never imports it (``[tool.importlinter]``).
"""
