"""Sphinx configuration of the API reference (`make docs`; warnings are errors).

The docstrings are plain text with formulas (|u − u*|, Σ, ∇), not reStructuredText, so each is
shown as a preformatted block rather than parsed (a `|` would otherwise start a substitution).
"""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))
project = "ritzhrta"
author = "the ritzhrta developers"
extensions = ["sphinx.ext.autodoc"]
autodoc_default_options = {"members": True, "undoc-members": False}
autodoc_typehints = "none"
exclude_patterns = ["_build", "img"]
html_theme = "alabaster"


def _preformatted(app, what, name, obj, options, lines):
    if lines:
        lines[:] = ["::", ""] + ["    " + line for line in lines] + [""]


def setup(app):
    app.connect("autodoc-process-docstring", _preformatted)
