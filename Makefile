# Teamgate. `make run` starts the dev server; `make test` runs everything.
# Both install what they need on a fresh machine.

PORT ?= 3000
CARGO ?= cargo

.PHONY: run test check fmt bench help

help:
	@echo "make run    dev server on 127.0.0.1:$(PORT) (in-memory store, outbox mailer)"
	@echo "make test   formatting, lints and every test"
	@echo "make fmt    format the code"
	@echo "make bench  latency, throughput, cleanup rate and zip sizes (release build: takes minutes)"

run:
	PORT=$(PORT) $(CARGO) run --quiet -p dev-server

test: check
	$(CARGO) test --workspace --all-targets

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

fmt:
	$(CARGO) fmt --all

bench:
	$(CARGO) bench -p tests --bench teamgate
