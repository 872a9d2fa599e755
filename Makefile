# Two commands do everything on a fresh machine: `make run` and `make test`.
# Set-up is idempotent: the venv and the Node install are rebuilt only when their lock files change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NODE_DIR := tools/node
NODE   := $(NODE_DIR)/node_modules/node/bin/node

# cdk8s runs on Node through jsii: use the supported Node that `make` installs, not the machine's.
export JSII_NODE := $(abspath $(NODE))

.PHONY: setup run test bench lint lock schemas golden clean
.DEFAULT_GOAL := run

setup: $(VENV)/.installed $(NODE)

$(VENV)/.installed: requirements.lock tools/uv.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r tools/uv.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m pip check --disable-pip-version-check
	touch $@

$(NODE): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	test -x $@ && touch $@

run: setup
	$(BIN)/mlgitops validate
	$(BIN)/mlgitops compile

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/run.py

# Maintainer targets.
lint: setup
	$(BIN)/ruff check compiler tests bench

lock: setup
	$(BIN)/uv pip compile --quiet --python $(BIN)/python --generate-hashes requirements.in -o requirements.lock

schemas: setup
	$(BIN)/mlgitops schema --kind MLSystem --out schemas/mlsystem.schema.json
	$(BIN)/mlgitops schema --kind Environment --out schemas/environment.schema.json

golden: setup
	$(BIN)/python -m pytest tests/test_golden.py --update-golden

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules
