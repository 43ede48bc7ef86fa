# Caseflow: `make run` starts everything locally, `make test` passes every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest postgres smtp-sink shell-tools chromium dovecot rt5 bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The console's browser scripts (htmx), pinned and checked, fetched once from the npm registry.
install: $(STAMP)
	@$(BIN)/python scripts/console-assets

run: install
	$(BIN)/caseflow dev

test: install postgres smtp-sink shell-tools chromium dovecot lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

pytest: install postgres smtp-sink shell-tools chromium dovecot rt5
	$(BIN)/pytest

# Tests run against a real PostgreSQL on 127.0.0.1:5432; start the local cluster if it is down.
postgres:
	@scripts/ensure-postgres

# SMTP fault tests need Postfix's smtp-sink; installed (not started) if missing.
smtp-sink:
	@scripts/ensure-smtp-sink

# The README's "Try it" runs in the tests with curl and jq; installed if missing.
shell-tools:
	@scripts/ensure-shell-tools

# The mailbox tests read a real Dovecot IMAP server; installed (not started) if missing.
dovecot:
	@scripts/ensure-dovecot

# The external-ticketing tests run a real Request Tracker 5; installed (not started) if missing.
rt5:
	@scripts/ensure-rt5

# The console's browser tests drive Debian's Chromium; installed if missing.
chromium:
	@scripts/ensure-chromium

bench: install
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/assignment.py
	$(BIN)/python bench/sla.py
	$(BIN)/python bench/mail.py
	$(BIN)/python bench/deals.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/inbound.py
	$(BIN)/python bench/lifecycle.py

clean:
	rm -rf $(VENV) .caseflow .pytest_cache .mypy_cache .ruff_cache
