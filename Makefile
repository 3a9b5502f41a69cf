# The two commands of the README, and the checks CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean lock

$(STAMP): pyproject.toml sim/pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "abxero needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e . -e ./sim
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/abxero demo

test: $(STAMP)
	@$(BIN)/pytest || { code=$$?; [ $$code -ne 5 ] || echo 'make test: pytest collected no tests; the suite is missing or misconfigured' >&2; exit $$code; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict

bench: $(STAMP)
	$(BIN)/python -m bench

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -vi '^abxero' > requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
