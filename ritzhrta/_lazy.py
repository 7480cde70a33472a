"""Lazy re-exports for the subpackages: ``from ritzhrta.geometry import Box`` imports only the
module that defines ``Box`` (so ``import ritzhrta.problem`` loads no solver, tqdm, matplotlib or meshio)."""
from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str]):
    """(__getattr__, __dir__) for ``package`` re-exporting ``name`` from ``package.exports[name]``."""

    def __getattr__(name: str):
        if name in exports:
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
