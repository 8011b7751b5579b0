# The README's commands. Everything runs inside a virtual environment in .venv,
# created on first use; `make lab` and `make test` set it up by themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dlcourse-installed
PYTEST_WORKERS ?= 2

.PHONY: setup lab test test-fast test-notebooks release validate bench clean

setup: $(STAMP)

# CPU PyTorch first (never the multi-GB CUDA wheels on a machine without a GPU),
# then the package with its dev, instructor and lab extras.
$(STAMP): pyproject.toml scripts/install_torch.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/install_torch.py
	$(BIN)/python -m pip install --progress-bar off -e ".[dev,lab]"
	touch $@

lab: setup
	$(BIN)/dlcourse lab

test: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

test-fast: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not notebooks"

test-notebooks: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m notebooks

release: setup
	$(BIN)/dlcourse release

validate: setup
	$(BIN)/dlcourse validate

bench: setup
	$(BIN)/python benchmarks/import_time.py
	$(BIN)/python benchmarks/two_layer_step.py
	$(BIN)/python benchmarks/notebooks.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis autograded feedback gradebook.db
