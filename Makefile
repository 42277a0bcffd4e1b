# OpsPortal — `make run` starts the portal on SQLite; `make test` runs the suite on PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export DATABASE_URL_TEST ?= postgres://postgres@127.0.0.1:5432/opsportal

.PHONY: install run test bench e2e lint check clean cluster test-cluster

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# Embedded default: SQLite, ORM task broker, simulator-backed integrations.
# The demo's integrations talk to `manage.py simulate` (started by serve_all: EFs, Supabase,
# Vercel, PagerDuty, Slack on :8787, moto Secrets Manager on :8788), so the status page is green.
# `make run DEMO_INTEGRATIONS=0` leaves them unset: every integration shows not_configured.
DEMO_INTEGRATIONS ?= 1
SIM := http://127.0.0.1:8787
SIM_AWS := http://127.0.0.1:8788
# Exactly what `manage.py simulate` prints (devtools.simulator.server.settings_for, checked by
# tests/devtools/test_make_run_env.py), plus moto: every client the demo uses talks to them.
ifeq ($(DEMO_INTEGRATIONS),1)
SIM_ENV := SUPABASE_URL=$(SIM) SUPABASE_FUNCTIONS_JWT=sim-functions-jwt \
	SUPABASE_FUNCTIONS_APIKEY=sim-functions-apikey SUPABASE_FUNCTIONS_ENABLED=true \
	SUPABASE_MANAGEMENT_URL=$(SIM)/supabase SUPABASE_ACCESS_TOKEN=sim-access-token \
	SUPABASE_PROJECT_REF=opsportaldemoproject SUPABASE_MANAGEMENT_ENABLED=true \
	SUPABASE_PROJECT_URL_TEMPLATE=$(SIM) \
	VERCEL_API_URL=$(SIM)/vercel VERCEL_TOKEN=sim-vercel-token VERCEL_PROJECT=station-web \
	VERCEL_ENABLED=true \
	PAGERDUTY_API_URL=$(SIM)/pagerduty PAGERDUTY_EVENTS_URL=$(SIM)/pagerduty-events \
	PAGERDUTY_API_KEY=sim-pagerduty-key PAGERDUTY_ROUTING_KEY=sim-routing-key \
	PAGERDUTY_FROM_EMAIL=ops@example.com PAGERDUTY_ENABLED=true \
	SLACK_API_URL=$(SIM)/slack/api SLACK_BOT_TOKEN=xoxb-sim-bot-token SLACK_ENABLED=true \
	AWS_SECRETS_ENDPOINT_URL=$(SIM_AWS) SECRETS_MANAGER_ENABLED=true AWS_REGION=eu-west-1 \
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
endif

# First run: a git-ignored .env (DEBUG=true, a generated SECRET_KEY), so every manage.py
# command of the README works in a second terminal too (opsportal/first_run.py).
.env:
	$(PYTHON) -m opsportal.first_run

run: install .env
	DEBUG=true $(PY) manage.py migrate --no-input
	DEBUG=true $(PY) manage.py demo
	DEBUG=true $(SIM_ENV) $(PY) manage.py serve_all

test: install
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} $(VENV)/bin/pytest -n 2 --dist loadgroup -q

# Several hosts on one machine: two web hosts (gunicorn, repo conf) behind a small proxy, two
# qclusters on Redis, one PostgreSQL and a Redis cache, the simulator (README "Running on
# several hosts"). Needs PostgreSQL and Redis running; its own database by default.
CLUSTER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/opsportal_cluster_demo
cluster: install
	DEBUG=true DATABASE_URL=$(CLUSTER_DATABASE_URL) $(PY) manage.py cluster

# The test that drives that topology (tests/cluster, ~3 min: its own CI step, not in `make
# test`). Uses Redis databases 6 (broker) and 7 (cache) under a queue name of its own.
test-cluster: install
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} $(VENV)/bin/pytest tests/cluster -q -p no:xdist

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} $(VENV)/bin/pytest tests/bench -s -q -p no:xdist

# Browser tests (tests/e2e): the real app + worker + simulator in subprocesses, Debian's
# /usr/bin/chromium driven by Playwright (never `playwright install`). Own database per run.
e2e: install
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} $(VENV)/bin/pytest tests/e2e -q -p no:xdist

# README screenshots: the browser tests that take them write docs/screenshots/*.png too.
.PHONY: screenshots
screenshots: install
	E2E_README_SCREENSHOTS=1 DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} $(VENV)/bin/pytest \
		tests/e2e/test_front_page.py tests/e2e/test_incident_flows.py \
		tests/e2e/test_readable_everywhere.py tests/e2e/test_campaign_page.py \
		tests/e2e/test_search_and_error_pages.py tests/e2e/test_incident_live_and_approvals.py \
		-q -p no:xdist -k "what_is_broken or pause_step or both_themes or fit_a_phone or start_starts \
		or the_list or search_box or 403_says or sign_out_message or rolled_back_rotation"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	DEBUG=true $(PY) manage.py check

clean:
	rm -rf $(VENV) db.sqlite3 test-artifacts
