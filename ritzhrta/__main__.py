"""``python -m ritzhrta``: the same as the ``ritzhrta`` console script."""
import sys

from .cli import main

sys.exit(main())
