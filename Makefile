# The README's two commands: `make run` and `make test`. Both are self-contained on a
# fresh clone: they create .venv, install the pinned requirements and check services.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
PORT ?= 3005
WEB_CONCURRENCY ?= 2
# prometheus_client's multiprocess directory belongs to the server (scripts/start.sh sets
# and empties it); one-off commands and tests keep their metrics in memory.
MANAGE := env -u PROMETHEUS_MULTIPROC_DIR $(BIN)/python manage.py

# Random secrets, generated once into a git-ignored file the settings read (the
# repository holds none); kept across runs so issued tokens stay valid. `make clean`
# deletes them with var/.
SECRETS_FILE := var/secrets.env
SECRET_NAMES := DJANGO_SECRET_KEY JWT_SECRET

.PHONY: run test lint format venv services secrets migrate seed superuser clean bench-deps bench-seed bench bench-peer bench-hitpath \
	chromium browser

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

services:
	@bash scripts/ensure_services.sh

secrets:
	@$(PYTHON) scripts/ensure_secrets.py $(SECRETS_FILE) $(SECRET_NAMES)

migrate: venv services secrets
	$(MANAGE) ensure_database
	$(MANAGE) migrate --noinput

# Demo data, with the front end's three demo logins (API users only: none is staff).
seed: migrate
	$(MANAGE) seed_demo

# The Django admin's one staff account: its password is generated and printed once
# (or taken from DJANGO_SUPERUSER_PASSWORD).
superuser: migrate
	$(MANAGE) ensure_superuser

run: seed superuser
	$(MANAGE) collectstatic --noinput --verbosity 0
	PORT=$(PORT) WEB_CONCURRENCY=$(WEB_CONCURRENCY) bash scripts/start.sh

test: venv services browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u PROMETHEUS_MULTIPROC_DIR $(BIN)/python -m pytest

# Debian's Chromium and ChromeDriver, for the admin's browser test
# (tests/test_admin_browser.py; Selenium drives /usr/bin/chromium, nothing is downloaded
# from elsewhere). `make chromium` installs them (root, apt) or fails saying why.
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "chromium: $$(chromium --version 2>/dev/null || echo installed)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "chromium: install Debian's chromium and chromium-driver as root (apt-get)"; exit 1; \
	fi

# What `make test` does about it: install it where it can (root with apt: CI on a fresh
# machine, so the browser test runs there); elsewhere the browser test skips and says so.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		$(MAKE) --no-print-directory chromium; \
	else \
		echo "note: no Chromium and no root apt here: tests/test_admin_browser.py will skip"; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks (bench/README.md): they print figures and write bench/out/; never run by CI.
# Use a database of their own, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/gc_bench
bench-deps: venv
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt

bench-seed: venv services secrets
	$(BIN)/python manage.py ensure_database
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --users 100000 --events 1000 --experiences 500

bench: bench-deps services secrets
	$(BIN)/python bench/cache_bench.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/redis_outage.py

# The original backend's hit path rebuilt (Fastify 5 + ioredis 5 on Node 20), for
# bench/hitpath.py only: installed from its lock file into bench/peer/node_modules
# (git-ignored); never used by CI, `make test` or `make run`.
bench-peer:
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20"; exit 1; }
	cd bench/peer && npm ci --no-audit --no-fund --loglevel=error

bench-hitpath: bench-peer venv services
	$(BIN)/python bench/hitpath.py

clean:
	rm -rf $(VENV) var
