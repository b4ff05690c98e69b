# The two commands of the README: `make demo` (set up the runtime, then answer with the default models)
# and `make test` (set up with the dev extras, then run every test). Both create .venv on first use.
VENV ?= .venv
HEF_DATA_DIR ?= $(abspath ../shared/data)
export HEF_DATA_DIR
export HF_HUB_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false
MESSAGE ?= My dog died this morning. I keep expecting him at the door.

.PHONY: setup demo test lint

setup:
	@scripts/setup.sh

demo:
	@HEF_EXTRAS=openai scripts/setup.sh
	$(VENV)/bin/hef respond "$(MESSAGE)"

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -q -rs

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
