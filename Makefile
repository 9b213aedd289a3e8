# Bootstrap and everyday commands. Every target installs what it needs into .venv first (idempotent:
# the install re-runs only when pyproject.toml or the constraints change).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0
EXTRAS := motion,eval,train,test

.PHONY: install demo test lint format constraints benchmarks clean

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: a bare `torch` requirement would otherwise pull a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[$(EXTRAS)]"
	$(BIN)/python -m macm.processing.pose.model_files
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/macm demo --out outputs/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/msd_overhead.py
	$(BIN)/python benchmarks/motion_throughput.py

constraints: $(STAMP)
	{ echo "# Exact versions the project is tested with (pip -c). Regenerate with: make constraints"; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==.*/$(TORCH)/'; } > requirements/constraints.txt

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
