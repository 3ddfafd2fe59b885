# mfdisco: `make run` runs the main job, `make test` runs the tests (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PyTorch is installed first, on its own, so that no dependency pulls a CUDA build.
# This machine's pip finds the CPU wheel of 2.13.0 locally; elsewhere pass e.g.
# TORCH_INSTALL="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu".
TORCH_INSTALL ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: run test benchmark clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_INSTALL)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mfdisco run

test: $(STAMP)
	$(BIN)/python -m pytest

benchmark: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(BIN)/python benchmarks/import_perov5.py

clean:
	rm -rf $(VENV) .pytest_cache
