# nestops: `make run` sets up and runs the whole product; `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
NESTOPS_PORT ?= 8000
NESTOPS_SIM_PORT ?= 9800
NESTOPS_GATEWAY_PORT ?= 8001
NESTOPS_CLOUD ?= sim
export NESTOPS_PORT NESTOPS_SIM_PORT NESTOPS_GATEWAY_PORT

# Processes started by `make run` (scripts/supervise.py restarts one that dies); cloudsim only
# when it is the cloud.
PROCESSES := web gateway worker beat
ifeq ($(NESTOPS_CLOUD),sim)
PROCESSES := cloudsim $(PROCESSES)
endif

.PHONY: run test bench lint format migrations-check ci clean install install-test browser nginx screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	@unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy; \
	$(BIN)/python manage.py compile_translations && \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py bootstrap_admin && \
	$(BIN)/python manage.py reset_process_metrics >/dev/null && \
	echo "" && \
	echo "nestops is starting: http://127.0.0.1:$(NESTOPS_PORT)/  (cloud: $(NESTOPS_CLOUD); Ctrl-C stops everything)" && \
	echo "" && \
	PATH="$(abspath $(BIN)):$$PATH" exec $(BIN)/python scripts/supervise.py -f Procfile $(PROCESSES)

# Browser tests drive Debian's Chromium; it is installed from the distribution when missing
# (never a browser downloaded by a test tool). CJK fonts let Chinese pages render in it.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } || { \
	  echo "Installing Debian's chromium and CJK fonts for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk; }

# The gateway's nginx configuration is tested with Debian's nginx (installed when missing).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installing Debian's nginx-light for the gateway tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx-light; }

test: install-test browser nginx
	$(BIN)/python manage.py compile_translations
	unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy; $(BIN)/pytest $(PYTEST_ARGS)

bench: install-test
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

screenshots: install-test browser
	$(BIN)/python manage.py compile_translations
	$(BIN)/python scripts/screenshots.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

ci:
	.ci/run

clean:
	rm -rf $(VENV) var/test-* .pytest_cache
