"""Usage errors of the command line: one line on stderr, exit code 2."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

__all__ = ["UsageError", "usage"]


class UsageError(Exception):
    """Bad input: reported on one line, exit code 2."""


@contextmanager
def usage() -> Iterator[None]:
    """Turn a ValueError/TypeError raised while checking input into a :class:`UsageError`."""
    try:
        yield
    except (ValueError, TypeError) as err:
        raise UsageError(str(err)) from None
