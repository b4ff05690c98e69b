# The two commands of the README: `make demo` (set up the runtime, then answer with the default models)
# and `make test` (set up with the dev extras, then run every test). Both create .venv on first use.
VENV ?= .venv
HEF_DATA_DIR ?= $(abspath ../shared/data)
export HEF_DATA_DIR
export HF_HUB_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false
MESSAGE ?= My dog died this morning. I keep expecting him at the door.

.PHONY: setup demo test test-fast typecheck lint

setup:
	@scripts/setup.sh

demo:
	@HEF_EXTRAS=openai,console scripts/setup.sh
	$(VENV)/bin/hef respond "$(MESSAGE)"

# Both tiers: unit tests (fakes, no weights) and integration tests (real SEM and LLM, Postgres, Chromium,
# servers, wheels); tests/conftest.py marks the second tier `integration`.
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest -q -rs

# The unit tier alone (under a minute on 2 cores); sets up .venv only when it is missing.
test-fast:
	@[ -x $(VENV)/bin/pytest ] || scripts/setup.sh
	$(VENV)/bin/python -m pytest -q -m "not integration"

# mypy over the runtime (hef_graph outside hef_graph/lab, and nodes/), as `make test` runs it.
typecheck: setup
	$(VENV)/bin/mypy

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
