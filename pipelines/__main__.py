"""``python -m pipelines`` is the ``liability`` command, for environments without the console script."""

from pipelines.cli import app

app(prog_name="liability")
