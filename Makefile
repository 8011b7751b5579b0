# The README's commands. Everything runs inside a virtual environment in .venv,
# created on first use; `make lab` and `make test` set it up by themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dlcourse-installed
PYTEST_WORKERS ?= 2
# A second environment with Colab's ipywidgets 7.7 (make test-widgets-77).
VENV77 ?= .venv-ipyw77
BIN77  := $(VENV77)/bin

.PHONY: setup lab lab-instructor test test-fast test-notebooks test-browser test-widgets-77 release validate bench clean

setup: $(STAMP)

# CPU PyTorch first (never the multi-GB CUDA wheels on a machine without a GPU),
# then the package with its dev, instructor and lab extras.
$(STAMP): pyproject.toml scripts/install_torch.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/install_torch.py
	$(BIN)/python -m pip install --progress-bar off -e ".[dev,lab]"
	touch $@

# The student view: notebooks/ without nbgrader's instructor tools.
lab: setup
	$(BIN)/dlcourse lab

# The instructor view: the course root, with the Formgrader and Create Assignment.
lab-instructor: setup
	$(BIN)/dlcourse lab --instructor

# Two pytest runs: everything but the browser suite over the workers, then the browser suite in
# one process (one browser session that runs its own pages in parallel). Both always run; the
# target fails if either did.
test: setup
	status=0; \
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not browser" --durations=25 || status=$$?; \
	$(BIN)/python -m pytest -m browser tests/browser || status=$$?; \
	exit $$status

test-fast: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not notebooks and not browser"

test-notebooks: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m notebooks

# Both labs in headless Chromium (tests/browser/; skipped without chromium or playwright).
test-browser: setup
	$(BIN)/python -m pytest -m browser tests/browser

# The widget tests again with ipywidgets 7.7, as Colab ships it, in an environment of their own
# (torch first, the CPU build, as in setup; then the package and what the widget tests use).
test-widgets-77:
	test -x $(BIN77)/python || $(PYTHON) -m venv $(VENV77)
	$(BIN77)/python scripts/install_torch.py
	$(BIN77)/python -m pip install --progress-bar off -e . "ipywidgets==7.7.*" pytest hypothesis nbclient "ipykernel<7"
	$(BIN77)/python -c "import ipywidgets; print('ipywidgets', ipywidgets.__version__)"
	$(BIN77)/python -m pytest -p no:cacheprovider tests/test_widgets*.py

release: setup
	$(BIN)/dlcourse release

validate: setup
	$(BIN)/dlcourse validate

bench: setup
	$(BIN)/python benchmarks/import_time.py
	$(BIN)/python benchmarks/two_layer_step.py
	$(BIN)/python benchmarks/notebooks.py

clean:
	rm -rf $(VENV) $(VENV77) .pytest_cache .hypothesis autograded feedback gradebook.db exchange .dlcourse tests/browser/artifacts
