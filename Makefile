# Two entry points for a fresh machine with Python 3.11: `make demo` and `make test`; `make check` is the
# fast tier for development (ruff and the tests not marked slow).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT ?= demo-output

.PHONY: demo test check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/crossbar demo --out $(OUT) --force

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

check: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -m "not slow"

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/devices.py
	$(BIN)/python benchmarks/crossbar_forward.py
	$(BIN)/python benchmarks/estimate_mnist.py
	$(BIN)/python benchmarks/estimate_depth.py
	$(BIN)/python benchmarks/estimate_resnet.py
	$(BIN)/python benchmarks/sweep_mnist.py
	$(BIN)/python benchmarks/hwa_training.py
	$(BIN)/python benchmarks/wires.py --skip-exact

clean:
	rm -rf $(VENV) $(OUT)
