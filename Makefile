# Set-up and main entry points. `make demo` and `make test` work on a fresh machine
# with Python 3.11+ and network access to the package registry.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-output

.PHONY: venv install demo test bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

demo: install
	$(BIN)/sanhua demo --out $(DEMO_OUT)

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pytest -q

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/bench_pipeline.py

# Peer scorecard libraries get their own environment, away from the project's pins.
bench-peers:
	$(PYTHON) -m venv bench/.venv-peers
	bench/.venv-peers/bin/python -m pip install --quiet --upgrade pip
	bench/.venv-peers/bin/python -m pip install --quiet -e . toad
	$(PYTHON) -m venv bench/.venv-scorecardpy
	bench/.venv-scorecardpy/bin/python -m pip install --quiet "pandas<2.1" "numpy<2" "pyarrow<20" scikit-learn scorecardpy
	bench/.venv-peers/bin/python bench/peers.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache build src/*.egg-info
