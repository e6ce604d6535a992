"""`python -m api` runs the jobmatch command line (same as the `jobmatch` script)."""

from api.cli import app

app()
