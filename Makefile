# The whole set-up: `make demo` and `make test` create .venv and install everything they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint format clean mutate studio axe

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# The CPU wheel of torch 2.13.0 lies on disk here; pin it first so nothing pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/photogen demo --out demo-output

# The local web page (http://127.0.0.1:7860/); Ctrl+C stops it.
studio: $(STAMP)
	$(BIN)/photogen studio

test: $(STAMP)
	$(BIN)/python -m pytest -q -rs

# axe-core (npm) for the studio's accessibility test; .ci/run installs it.
axe:
	mkdir -p build/axe && npm install --silent --no-audit --no-fund --prefix build/axe axe-core@4

bench: $(STAMP)
	$(BIN)/python benchmarks/style_transfer.py
	$(BIN)/python benchmarks/texture.py
	$(BIN)/python benchmarks/colorize.py
	$(BIN)/python benchmarks/pix2pix.py
	$(BIN)/python benchmarks/pixelcnn.py
	$(BIN)/python benchmarks/texture_classics.py
	$(BIN)/python benchmarks/learn.py
	$(BIN)/python benchmarks/studio.py

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/ruff check src tests benchmarks examples

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) demo-output .pytest_cache mutants

# Mutation testing of the small pure modules against their own tests ([tool.mutmut] in
# pyproject.toml); about an hour on 2 cores. `mutmut browse` shows the survivors.
mutate: $(STAMP)
	$(BIN)/pip install -q -e '.[test,mutate]'
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results
