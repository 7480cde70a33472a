# Two entry points: `make demo` (install, then solve the 2D Poisson problem with HRTA)
# and `make test` (install, then run the test suite). Both create .venv themselves.
VENV   ?= .venv
PYTHON ?= python3
# The CPU wheel of torch that lies on this kind of machine; override TORCH= elsewhere.
TORCH  ?= torch==2.13.0
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.ritzhrta-installed

.PHONY: demo demo-paper test test-fast docs install clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Solve the 2D Poisson problem (its source, not its solution): the Deep Ritz energy under HRTA stages
# s = 0.5 -> 1 driving Gauss-Newton on a narrow sigma net; ~4 CPU-s, rel H1 ~7.5e-3 and its estimate.
demo: $(STAMP)
	$(VENV)/bin/ritzhrta solve poisson2d-neumann --trainer gauss-newton --loss ritz --width 80 --dtype float64 \
		--schedule 0.5:5,1:10 --out runs/demo --force

# The paper's algorithm: Adam, width 1000, 6000 steps (about 80 s idle, 160 CPU-s).
demo-paper: $(STAMP)
	$(VENV)/bin/ritzhrta solve poisson2d-neumann --trainer adam --width 1000 --out runs/demo-paper --force

test: $(STAMP)
	$(PY) -m pytest

# The fast tier: every test but the slow ones (tests/conftest.py), under 90 s.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

# The API reference from the docstrings (Sphinx autodoc), warnings as errors: docs/_build/html.
docs: $(STAMP)
	$(PY) -m sphinx -b html -q -W --keep-going docs docs/_build/html

clean:
	rm -rf $(VENV) runs build *.egg-info docs/_build
