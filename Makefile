# Tweet sentiment pipeline. `make` (or `make help`) lists every target.
# Every target bootstraps what it needs: the first run creates .venv from the pins in pyproject.toml.

.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
CHECKOV_VENV ?= .venv-checkov
CHECKOV_VERSION ?= 3.3.30
PARLIAMENT_VENV ?= .venv-parliament
PARLIAMENT_VERSION ?= 1.6.4
TF          ?= terraform
TF_DIR      ?= terraform
ARGS        ?=
INGESTER_ARCH ?= aarch64
export PYTHONPATH := $(CURDIR)/lambda_src:$(CURDIR)

.PHONY: help setup lint fmt test build bench demo clean checkov \
        plan deploy destroy ssh logs opensearch-setup redrive smoke x-token

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["dev"]))' > $(VENV)/requirements-dev.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements-dev.txt
	@touch $@

setup: $(VENV)/.installed ## Create .venv and install the pinned dependencies

$(CHECKOV_VENV)/.installed:
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "checkov==$(CHECKOV_VERSION)"
	@touch $@

# parliament (IAM policy linter) pins its own boto3: its own virtualenv, like checkov's.
$(PARLIAMENT_VENV)/.installed:
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

test: setup build $(CHECKOV_VENV)/.installed $(PARLIAMENT_VENV)/.installed ## Build, then run the whole test suite (unit, integration: moto server + terraform, e2e)
	CHECKOV_BIN=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov PARLIAMENT_BIN=$(CURDIR)/$(PARLIAMENT_VENV)/bin/parliament \
	  $(PY) -m pytest $(ARGS)

build: setup ## Build dist/transform.zip (Lambda) and dist/ingester-bundle.tar.gz (INGESTER_ARCH=aarch64|x86_64)
	$(PY) scripts/build_lambda.py
	$(PY) scripts/build_ingester_bundle.py --arch $(INGESTER_ARCH)

bench: setup ## Benchmarks (transform, ingester writer, local end-to-end) beside naive baselines
	$(PY) scripts/bench/transform_bench.py
	$(PY) scripts/bench/ingester_bench.py
	$(PY) scripts/bench/demo_bench.py

demo: setup ## Run the pipeline locally on the bundled sample (ARGS="--rate 200 --duration 60")
	$(PY) -m scripts.demo $(ARGS)

# Terraform. Plain `terraform init` (registry); set TF_CLI_CONFIG_FILE for a provider mirror.
# TFVARS=path/to/file.tfvars adds a var file (default: terraform/terraform.tfvars if present).
TFVARS      ?=
AUTO_APPROVE ?=
TF_VAR_FILE := $(if $(TFVARS),-var-file=$(abspath $(TFVARS)),)

.PHONY: tf-init

tf-init: ## terraform init in terraform/ (from the registry, or the mirror named by TF_CLI_CONFIG_FILE)
	$(TF) -chdir=$(TF_DIR) init -input=false

plan: ## Build the artefacts and show what `make deploy` would change (TFVARS=my.tfvars)
	$(MAKE) build
	$(MAKE) tf-init
	$(TF) -chdir=$(TF_DIR) plan -input=false $(TF_VAR_FILE)

deploy: ## Build, terraform apply, then OpenSearch setup (TFVARS=my.tfvars, AUTO_APPROVE=1 skips the prompt)
	$(MAKE) build
	$(MAKE) tf-init
	$(TF) -chdir=$(TF_DIR) apply -input=false $(TF_VAR_FILE) $(if $(AUTO_APPROVE),-auto-approve,)
	$(MAKE) opensearch-setup

destroy: ## terraform destroy the whole stack (first `make x-token ARGS=--delete`; the backup bucket must be empty unless force_destroy_bucket = true)
	$(MAKE) tf-init
	$(TF) -chdir=$(TF_DIR) destroy -input=false $(TF_VAR_FILE) $(if $(AUTO_APPROVE),-auto-approve,)

ssh: ## Shell on the ingester: SSH when ssh_allowed_cidrs allow it, else Session Manager
	@cmd="$$($(TF) -chdir=$(TF_DIR) output -raw ssh_command)"; echo "+ $$cmd"; eval "$$cmd"

logs: ## Follow the ingester's journal on the box (journalctl -u tweet-ingester -f)
	@cmd="$$($(TF) -chdir=$(TF_DIR) output -raw ssh_command)"; follow="sudo journalctl -u tweet-ingester -f"; \
	if [[ "$$cmd" == ssh* ]]; then echo "+ $$cmd -t $$follow"; eval "$$cmd -t $$follow"; \
	else id="$$($(TF) -chdir=$(TF_DIR) output -raw ingester_instance_id)"; \
	  region="$$($(TF) -chdir=$(TF_DIR) output -raw aws_region)"; \
	  echo "+ aws ssm start-session --region $$region --target $$id (AWS-StartInteractiveCommand: $$follow)"; \
	  aws ssm start-session --region "$$region" --target "$$id" --document-name AWS-StartInteractiveCommand \
	    --parameters "{\"command\":[\"$$follow\"]}"; fi

clean: ## Remove build outputs, caches and virtualenvs
	rm -rf dist build demo-output .pytest_cache .mypy_cache .ruff_cache .hypothesis $(VENV) $(CHECKOV_VENV) \
	  $(PARLIAMENT_VENV)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

opensearch-setup: setup ## Index template, ISM retention, Firehose role mapping, Dashboards objects (ARGS="--sigv4")
	$(PY) -m scripts.opensearch --tf-dir $(TF_DIR) $(ARGS)

redrive: setup ## Put failed records from the backup bucket back into the stream (ARGS="--dry-run")
	$(PY) -m scripts.redrive --tf-dir $(TF_DIR) $(ARGS)

smoke: setup ## Post-deploy smoke test: synthetic tweets through the stream into OpenSearch, then removed
	$(PY) -m scripts.smoke --tf-dir $(TF_DIR) $(ARGS)

x-token: setup ## Put the X bearer token into its SSM SecureString (typed hidden or piped; ARGS="--token-fd 3", "--delete")
	$(PY) -m scripts.x_token --tf-dir $(TF_DIR) $(ARGS)
