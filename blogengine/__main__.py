"""Entry point for `python -m blogengine`."""

from blogengine.cli import run

run()
