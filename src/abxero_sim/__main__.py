"""``python -m abxero_sim demo|simulators``: the same commands without the product's CLI."""

from abxero_sim.cli import app

app()
