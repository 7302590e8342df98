# Tweet sentiment pipeline. `make` (or `make help`) lists every target.
# Every target bootstraps only what it needs, from the pins in pyproject.toml: `build` needs nothing but
# python3 and pip; the demo and the operator tools (opensearch-setup, redrive, smoke) share a lean runtime
# virtualenv (.venv-run: [runtime]); tests, lint and benchmarks use the development one (.venv: [runtime] + [dev]).

.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# The first Python >= 3.11 on PATH; PYTHON=/path/to/python3.11 (or the environment) overrides it.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
            if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; \
            then echo $$p; break; fi; done)
endif
NEED_PYTHON = @test -n "$(PYTHON)" || { echo "make: needs Python >= 3.11 (looked for python3.13, python3.12, python3.11, python3 on PATH): install one, or pass PYTHON=/path/to/python3.11" >&2; exit 1; }
VENV        ?= .venv
PY          := $(VENV)/bin/python
RUN_VENV    ?= .venv-run
RUN_PY      := $(RUN_VENV)/bin/python
CHECKOV_VENV ?= .venv-checkov
CHECKOV_VERSION ?= 3.3.30
PARLIAMENT_VENV ?= .venv-parliament
PARLIAMENT_VERSION ?= 1.6.4
TRAIN_VENV  ?= .venv-train
DATA        ?=
TF          ?= terraform
TF_DIR      ?= terraform
ARGS        ?=
export PYTHONPATH := $(CURDIR)/lambda_src:$(CURDIR)

.PHONY: help setup setup-runtime lint fmt test test-fast build bench demo clean checkov \
        plan deploy destroy ssh logs opensearch-setup dashboards-user redrive smoke x-token \
        upgrade-ingester train-sentiment eval

help: ## Show this help (colours only on a terminal, and never with NO_COLOR set)
	@if [ -t 1 ] && [ -z "$${NO_COLOR:-}" ]; then on=$$'\033[36m'; off=$$'\033[0m'; else on=; off=; fi; \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %s%-18s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

# $(call make_venv,DIR,EXTRAS): create DIR and install the pins of the named optional-dependency lists.
# A virtualenv left by an older Python (or half made) is rebuilt; .installed is written only on success.
define make_venv
	$(NEED_PYTHON)
	@if [ -e $(1) ] && ! $(1)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	  echo "make: $(1) is not a Python >= 3.11 virtualenv; rebuilding it with $(PYTHON)"; rm -rf $(1); fi
	@test -x $(1)/bin/python || $(PYTHON) -m venv $(1) || { rm -rf $(1); exit 1; }
	@echo "make: installing the [$(2)] pins into $(1) (first run, or pyproject.toml changed)..."
	@$(1)/bin/python -m pip install --quiet --upgrade pip
	@$(1)/bin/python -c 'import sys, tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]; print("\n".join(d for extra in sys.argv[1:] for d in deps[extra]))' $(2) > $(1)/requirements.txt
	$(1)/bin/python -m pip install --quiet -r $(1)/requirements.txt
	@touch $(1)/.installed
endef

$(VENV)/.installed: pyproject.toml
	$(call make_venv,$(VENV),runtime dev)

$(RUN_VENV)/.installed: pyproject.toml
	$(call make_venv,$(RUN_VENV),runtime)

$(TRAIN_VENV)/.installed: pyproject.toml
	$(call make_venv,$(TRAIN_VENV),runtime train)

setup: $(VENV)/.installed ## Create .venv (runtime + development tools) from the pins in pyproject.toml

setup-runtime: $(RUN_VENV)/.installed ## Create .venv-run (only what the demo and the operator tools import)

$(CHECKOV_VENV)/.installed:
	$(NEED_PYTHON)
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "checkov==$(CHECKOV_VERSION)"
	@touch $@

# parliament (IAM policy linter) pins its own boto3: its own virtualenv, like checkov's.
$(PARLIAMENT_VENV)/.installed:
	$(NEED_PYTHON)
	@test -x $(PARLIAMENT_VENV)/bin/python || $(PYTHON) -m venv $(PARLIAMENT_VENV)
	$(PARLIAMENT_VENV)/bin/python -m pip install --quiet "parliament==$(PARLIAMENT_VERSION)"
	@touch $@

checkov: $(CHECKOV_VENV)/.installed ## Scan terraform/ with checkov (own virtualenv; offline)
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework terraform -d $(TF_DIR)

lint: setup ## ruff, mypy and terraform fmt check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@if ls $(TF_DIR)/*.tf >/dev/null 2>&1; then $(TF) fmt -check -recursive $(TF_DIR); fi

fmt: setup ## Format Python and Terraform code in place
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	@if ls $(TF_DIR)/*.tf >/dev/null 2>&1; then $(TF) fmt -recursive $(TF_DIR); fi

# pytest-xdist workers: `auto` is one per core; 0 runs in this process (for pdb). The whole suite takes more
# workers than cores: most of its time is terraform and moto waiting on each other, not CPU.
TEST_WORKERS ?= auto
SUITE_WORKERS ?= 4
xdist = $(if $(filter 0,$(1)),,-n $(1) --dist loadfile)

test-fast: setup ## The inner loop: unit tests only (no build, no terraform, no make, no emulator process), in parallel
	$(PY) -m pytest tests/unit $(call xdist,$(TEST_WORKERS)) -q $(ARGS)

test: setup build $(CHECKOV_VENV)/.installed $(PARLIAMENT_VENV)/.installed $(TRAIN_VENV)/.installed ## Build, then run the whole test suite (unit, integration: moto server + terraform + systemd boot, e2e)
	CHECKOV_BIN=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov PARLIAMENT_BIN=$(CURDIR)/$(PARLIAMENT_VENV)/bin/parliament \
	  TRAIN_PYTHON=$(CURDIR)/$(TRAIN_VENV)/bin/python \
	  $(PY) -m pytest $(call xdist,$(SUITE_WORKERS)) $(ARGS)

build: ## Build dist/transform.zip (Lambda) and dist/ingester-bundle.tar.gz (pure Python, arm64 and x86_64); needs only python3 + pip
	$(NEED_PYTHON)
	$(PYTHON) scripts/packaging/build_lambda.py
	$(PYTHON) scripts/packaging/build_ingester_bundle.py

bench: setup ## Benchmarks (transform, ingester writer, local end-to-end, Bluesky filter, sources under faults, deletion lag) beside baselines
	$(PY) scripts/dev/bench/transform_bench.py
	$(PY) scripts/dev/bench/ingester_bench.py
	$(PY) scripts/dev/bench/durability_bench.py
	$(PY) scripts/dev/bench/demo_bench.py
	$(PY) scripts/dev/bench/bluesky_bench.py
	$(PY) scripts/dev/bench/sources_bench.py
	$(PY) scripts/dev/bench/deletion_bench.py

train-sentiment: $(TRAIN_VENV)/.installed ## Retrain every embedded sentiment model: English (embedded_weights.json) and ar de es fr hi it pt (multilingual_weights/) (DATA=folder with tse/, opinion_lexicon/, umsab/)
	@test -n "$(DATA)" || { echo "usage: make train-sentiment DATA=/path/to/data (holds tse/train.csv, opinion_lexicon/ and umsab/)" >&2; exit 2; }
	$(TRAIN_VENV)/bin/python -m scripts.dev.sentiment.train --data "$(DATA)"
	$(TRAIN_VENV)/bin/python -m scripts.dev.sentiment.train_multilingual --data "$(DATA)"

eval: setup ## Per backend and language: accuracy, macro-F1, confusion on TSE test and UMSAB val (DATA=...) and the sample; speed, share scored, zip, cold start
	$(PY) -m scripts.dev.sentiment.eval $(if $(DATA),--data "$(DATA)",)

demo: setup-runtime ## Run the pipeline locally on the bundled sample, with an HTML report (ARGS="--rate 200 --duration 60")
	$(RUN_PY) -m scripts.demo $(ARGS)

.PHONY: demo-opensearch
demo-opensearch: setup-runtime ## The demo into a local OpenSearch + Dashboards (Docker Compose), dashboards imported (ARGS="-- --loop")
	$(RUN_PY) -m scripts.demo.local_opensearch $(ARGS)

# Terraform. Plain `terraform init` (registry); set TF_CLI_CONFIG_FILE for a provider mirror.
# TFVARS=path/to/file.tfvars adds a var file (default: terraform/terraform.tfvars if present).
TFVARS      ?=
AUTO_APPROVE ?=
TF_VAR_FILE := $(if $(TFVARS),-var-file=$(abspath $(TFVARS)),)
# plan/deploy/destroy run terraform through scripts/ops/deployer_ip.py: unless you set dashboards_allowed_cidrs
# (or opensearch_vpc) yourself, it allows this machine's public IP, looked up at CHECKIP_URL.
CHECKIP_URL ?= https://checkip.amazonaws.com
WITH_DEPLOYER_IP = $(PYTHON) -m scripts.ops.deployer_ip --checkip-url $(CHECKIP_URL) --
# NO_COLOR (no-color.org) reaches Terraform too, which does not read it: -no-color on every command the targets run.
ifneq ($(NO_COLOR),)
export TF_CLI_ARGS_init := -no-color
export TF_CLI_ARGS_plan := -no-color
export TF_CLI_ARGS_apply := -no-color
export TF_CLI_ARGS_destroy := -no-color
export TF_CLI_ARGS_output := -no-color
endif

.PHONY: tf-init state-backend

tf-init: ## terraform init in terraform/ (from the registry, or the mirror named by TF_CLI_CONFIG_FILE)
	$(TF) -chdir=$(TF_DIR) init -input=false

# Remote state (optional): STATE_REGION, STATE_BUCKET, STATE_KEY, STATE_KMS_KEY_ARN override the defaults.
STATE_REGION ?=
STATE_BUCKET ?=
STATE_KEY ?=
STATE_KMS_KEY_ARN ?=

state-backend: setup-runtime ## Create the encrypted S3 state bucket, write terraform/backend.tf, move the state there
	$(RUN_PY) -m scripts.ops.state_backend --tf-dir $(TF_DIR) $(if $(STATE_REGION),--region $(STATE_REGION),) \
	  $(if $(STATE_BUCKET),--bucket $(STATE_BUCKET),) $(if $(STATE_KEY),--key $(STATE_KEY),) \
	  $(if $(STATE_KMS_KEY_ARN),--kms-key-arn $(STATE_KMS_KEY_ARN),)
	$(TF) -chdir=$(TF_DIR) init -migrate-state

plan: ## Build the artefacts and show what `make deploy` would change (TFVARS=my.tfvars)
	$(NEED_PYTHON)
	@$(PYTHON) -m scripts.ops.aws_credentials --for "make plan"
	$(MAKE) build
	$(MAKE) tf-init
	$(WITH_DEPLOYER_IP) $(TF) -chdir=$(TF_DIR) plan -input=false $(TF_VAR_FILE)

deploy: ## Build, terraform apply (your public IP allowed unless dashboards_allowed_cidrs is set), then OpenSearch setup (TFVARS=my.tfvars, AUTO_APPROVE=1)
	$(NEED_PYTHON)
	@$(PYTHON) -m scripts.ops.aws_credentials --for "make deploy"
	$(MAKE) build
	$(MAKE) tf-init
	$(WITH_DEPLOYER_IP) $(TF) -chdir=$(TF_DIR) apply -input=false $(TF_VAR_FILE) $(if $(AUTO_APPROVE),-auto-approve,)
	$(MAKE) opensearch-setup

destroy: ## terraform destroy the whole stack (first `make x-token ARGS=--delete`; the backup bucket must be empty unless force_destroy_bucket = true)
	$(NEED_PYTHON)
	@$(PYTHON) -m scripts.ops.aws_credentials --for "make destroy"
	$(MAKE) tf-init
	$(WITH_DEPLOYER_IP) $(TF) -chdir=$(TF_DIR) destroy -input=false $(TF_VAR_FILE) $(if $(AUTO_APPROVE),-auto-approve,)

upgrade-ingester: setup-runtime ## Build, upload the ingester bundle and install it on the running box via Run Command (keeps the instance, WAL and spool)
	$(MAKE) build
	$(RUN_PY) -m scripts.ops.upgrade_ingester --tf-dir $(TF_DIR) $(ARGS)

ssh: ## Shell on the ingester: SSH when ssh_allowed_cidrs allow it, else Session Manager
	$(NEED_PYTHON)
	@$(PYTHON) -m scripts.ops.ingester_shell ssh --tf-dir $(TF_DIR) --terraform $(TF)

logs: ## Follow the ingester's journal on the box (journalctl -u tweet-ingester -f)
	$(NEED_PYTHON)
	@$(PYTHON) -m scripts.ops.ingester_shell logs --tf-dir $(TF_DIR) --terraform $(TF)

clean: ## Remove build outputs, caches and virtualenvs
	rm -rf dist build demo-output .pytest_cache .mypy_cache .ruff_cache .hypothesis $(VENV) $(RUN_VENV) \
	  $(CHECKOV_VENV) $(PARLIAMENT_VENV) $(TRAIN_VENV)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

opensearch-setup: setup-runtime ## Index template, ISM retention, role mappings, Dashboards objects, as the admin role (ARGS=...)
	$(RUN_PY) -m scripts.ops.opensearch --tf-dir $(TF_DIR) $(ARGS)

EMAIL ?=
dashboards-user: setup-runtime ## Invite a Dashboards user: Cognito e-mails a temporary password (EMAIL=alice@example.com)
	@test -n "$(EMAIL)" || { echo "usage: make dashboards-user EMAIL=alice@example.com [ARGS=--resend]" >&2; exit 2; }
	$(RUN_PY) -m scripts.ops.opensearch.dashboards_user --tf-dir $(TF_DIR) "$(EMAIL)" $(ARGS)

redrive: setup-runtime ## Put failed records from the backup bucket back into the stream (ARGS="--dry-run")
	$(RUN_PY) -m scripts.ops.redrive --tf-dir $(TF_DIR) $(ARGS)

smoke: setup-runtime ## Post-deploy smoke test: synthetic tweets through the stream into OpenSearch, then removed
	$(RUN_PY) -m scripts.ops.smoke --tf-dir $(TF_DIR) $(ARGS)

x-token: setup-runtime ## Put the X bearer token into its SSM SecureString (typed hidden or piped; ARGS="--token-fd 3", "--delete")
	$(RUN_PY) -m scripts.ops.x_token --tf-dir $(TF_DIR) $(ARGS)
