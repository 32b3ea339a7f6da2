# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all smoke bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# torch first and pinned: pip then takes the local CPU build, not the CUDA wheels.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[test]'
	touch $(STAMP)

# --force: the demo regenerates the committed results/demo and results/classic (fresh clone or re-run).
demo: $(STAMP)
	$(BIN)/studygym demo --force

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ''

smoke: $(STAMP)
	$(BIN)/studygym smoke

clean:
	rm -rf $(VENV) build *.egg-info
