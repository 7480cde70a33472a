"""The command line: ``ritzhrta`` (main), its study commands (studies) and usage errors (usage).
It only parses; the library owns every default.
"""
from __future__ import annotations

from ritzhrta._lazy import lazy_exports

_EXPORTS = {
    # usage
    "UsageError": "usage",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
