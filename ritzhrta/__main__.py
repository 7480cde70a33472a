"""``python -m ritzhrta``: the same as the ``ritzhrta`` console script."""
from ritzhrta.cli.main import console

console()
