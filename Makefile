# Satu Pintu: the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

.PHONY: up down kafka db keycloak jaeger status clean test test-unit chaos lint typecheck check install bench system-packages deploy-tools asyncapi openapi secrets alerts-check

install: ## Install uv (from PyPI) if missing, then the locked workspace
	@command -v uv >/dev/null 2>&1 || [ -x "$(HOME)/.local/bin/uv" ] || python3 -m pip install --user --quiet uv
	@$(UV) sync --frozen --quiet

SECURE ?=
up: install ## Start Kafka, PostgreSQL, Keycloak and every service; print their URLs (SECURE=1: the secured broker, a Kafka user per service)
	@$(UV) run --frozen satupintu-local up $(if $(SECURE),--secure)

down: ## Stop everything `make up` started, by process id
	@$(UV) run --frozen satupintu-local down

kafka: install ## Start only the local Kafka broker (SECURE=1: the secured one, with every user and ACL)
	@$(UV) run --frozen satupintu-local kafka $(if $(SECURE),--secure)

db: install ## Start only the local PostgreSQL server
	@$(UV) run --frozen satupintu-local db

keycloak: install ## Start only the local Keycloak (and the PostgreSQL server its database is on); print how to sign in
	@$(UV) run --frozen satupintu-local keycloak

jaeger: install ## Run Jaeger (OTLP in on 4317/4318, query API on 16686; built once from its Go module, no web UI); print how to send traces to it and read them
	@$(UV) run --frozen satupintu-local jaeger

status:
	@$(UV) run --frozen satupintu-local status

clean: ## Stop everything and delete local data
	@$(UV) run --frozen satupintu-local clean

lint: install
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .

typecheck: install
	@$(UV) run --frozen mypy

system-packages: ## Debian packages the tests need (Chromium; poppler-utils and zbar-tools to check issued documents and printed slips; espeak-ng for spoken calls)
	@bash deploy/local/install-system-packages.sh

DATABASE_HOST ?= postgres.mpp.example.go.id:5432
secrets: install ## Generate, once, every key and password for Compose and Kubernetes into deploy/secrets/ (never in git)
	@$(UV) run --frozen satupintu-secrets --output deploy/secrets --database-host "$(DATABASE_HOST)"

deploy-tools: ## Docker Compose CLI plugin for the deployment checks (and kustomize if kubectl is missing)
	@bash deploy/tools/install-tools.sh

alerts-check: install ## Check the alert rules and run their unit tests with promtool (built once, cached in ~/.cache/satupintu)
	@$(UV) run --frozen python -m satupintu.devtools.localstack.promtool check rules deploy/observability/alerts.yml
	@$(UV) run --frozen python -m satupintu.devtools.localstack.promtool test rules deploy/observability/alerts.test.yml

# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE): the tests start service
# processes hundreds of times, and each would compile every module it imports from source again.
TEST_WORKERS ?= 2
test: install system-packages lint typecheck ## Lint, type-check, and run every test against the real Kafka and PostgreSQL (TEST_WORKERS=2 processes, each taking whole modules)
	@PYTHONDONTWRITEBYTECODE= $(UV) run --frozen pytest -n $(TEST_WORKERS) --dist loadfile

test-unit: install
	@$(UV) run --frozen pytest -m unit

CHAOS_RUNS ?= 3
chaos: install ## The reliability drills (marker chaos) with 500 applications each, three runs in a row; stops at the first failure
	@for run in $$(seq 1 $(CHAOS_RUNS)); do \
		echo "== chaos run $$run of $(CHAOS_RUNS) (CHAOS_APPLICATIONS=$${CHAOS_APPLICATIONS:-500}) =="; \
		CHAOS_APPLICATIONS=$${CHAOS_APPLICATIONS:-500} $(UV) run --frozen pytest -m chaos -x -q || exit 1; \
	done

bench: install ## Throughput and latency against hand-written baselines (prints a table, writes bench/results/latest.json)
	@$(UV) run --frozen python bench/run.py

asyncapi: install ## Regenerate docs/asyncapi/<service>.json from the code
	@$(UV) run --frozen python docs/asyncapi/generate.py

openapi: install ## Regenerate docs/openapi/<service>.json from the code
	@$(UV) run --frozen python docs/openapi/generate.py
