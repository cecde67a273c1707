# Two commands on a fresh clone: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Chorus needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Migrate the SQLite database, load the example surveys and a demo organisation, load eight weeks of demo
# data on first start (`chorus demo --if-empty`: once, and never into a database that has real people or
# organisations), print a one-time console login for the demo admin (when there is no admin yet),
# then run the whole service in one process (web, clock, worker; the bot when configured)
# and chat in the terminal.
run: $(STAMP)
	$(BIN)/chorus db upgrade
	$(BIN)/chorus surveys load surveys/examples/*.yaml
	$(BIN)/chorus orgs add "Demo Partnership" --code demo --exist-ok
	$(BIN)/chorus demo --if-empty
	$(BIN)/chorus users demo-admin
	$(BIN)/chorus run --org demo --survey weekly-checkin

test: $(STAMP)
	@bash .ci/ensure-chromium
	$(BIN)/ruff check --quiet .
	$(BIN)/python -m pytest

# Every figure in the README's benchmark tables (about 15 minutes; PostgreSQL figures need the local server).
bench: $(STAMP)
	$(BIN)/python benchmarks/inbound.py
	$(BIN)/python benchmarks/sms_webhook.py
	$(BIN)/python benchmarks/telegram_send.py
	$(BIN)/python benchmarks/wave.py
	$(BIN)/python benchmarks/sentiment.py
	$(BIN)/python benchmarks/safeguarding.py
	$(BIN)/python benchmarks/digest.py
	$(BIN)/python benchmarks/dashboard.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
