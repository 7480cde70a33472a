"""``python -m ritzhrta``: the same as the ``ritzhrta`` console script."""
import sys

from ritzhrta.cli.main import main

sys.exit(main())
