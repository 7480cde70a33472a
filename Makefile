# Two entry points: `make demo` (install, then solve the 2D Poisson problem with HRTA)
# and `make test` (install, then run the test suite). Both create .venv themselves.
VENV   ?= .venv
PYTHON ?= python3
# The CPU wheel of torch that lies on this kind of machine; override TORCH= elsewhere.
TORCH  ?= torch==2.13.0
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.ritzhrta-installed

.PHONY: demo test install clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ritzhrta solve poisson2d-neumann --out runs/demo --force

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) runs build *.egg-info
