# One entry point for every chore; `make help` lists them. Nothing is installed globally: every
# target runs in the checkout's .venv, created and filled by scripts/_env.sh and `make build`.
.DEFAULT_GOAL := help
SHELL := /bin/bash
ENV := source scripts/_env.sh &&
# What the type checkers read beyond mypy's own list (pyproject.toml): the examples and the docs'
# code blocks, written out as modules by tests/docs_blocks.py.
DOCS_EXAMPLES := build/docs-examples
# pyright's strict mode (basedpyright) holds for the whole package, the tests, the examples and the
# docs' examples; the few rules it relaxes, and where, are listed in pyproject.toml.
PYRIGHT_STRICT := python tests examples $(DOCS_EXAMPLES)
SOAK_REQUESTS ?= 100000
# `make BUILD= docs` skips the build when the extension is already current (scripts/test does).
BUILD ?= build
FUZZ_SECONDS ?= 30

.PHONY: help build lint format typecheck docs test examples wheel bench fuzz soak all

help: ## Show this list
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

build: ## Build the extension (debug) into .venv, with the test, docs and dask extras
	$(ENV) maturin develop --quiet --extras test,docs,dask

lint: ## cargo fmt --check, clippy -D warnings, ruff check and ruff format --check
	$(ENV) cargo fmt --check
	$(ENV) cargo clippy --quiet --all-targets -- -D warnings
	$(ENV) ruff check python tests benchmarks examples
	$(ENV) ruff format --check python tests benchmarks examples

format: ## Rewrite Rust and Python sources in the house format (cargo fmt, ruff --fix, ruff format)
	$(ENV) cargo fmt
	$(ENV) ruff check --fix --quiet python tests benchmarks examples
	$(ENV) ruff format python tests benchmarks examples

typecheck: $(BUILD) ## mypy --strict and stubtest; pyright strict (basedpyright) on the package, tests, examples, docs
	$(ENV) rm -rf $(DOCS_EXAMPLES) && python -m tests.docs_blocks $(DOCS_EXAMPLES) > /dev/null
	$(ENV) mypy
	$(ENV) mypy examples $(DOCS_EXAMPLES)
	$(ENV) python -m mypy.stubtest ferrofetch._core --allowlist .mypy-stubtest-allowlist
	$(ENV) basedpyright $(PYRIGHT_STRICT)

docs: $(BUILD) ## Build the documentation site into site/ (mkdocs build --strict)
	$(ENV) NO_MKDOCS_2_WARNING=1 mkdocs build --strict --quiet

test: $(BUILD) ## cargo test and pytest (PYTEST_ARGS="-k fetch_all -x" to choose)
	$(ENV) cargo test --quiet
	$(ENV) python -m pytest $(PYTEST_ARGS)

examples: $(BUILD) ## Run every script of examples/ against a loopback server
	$(ENV) python -m pytest -q tests/test_examples.py

wheel: ## Build the abi3 wheel and sdist, install the wheel in a fresh venv, smoke-test it there
	$(ENV) python -m pytest -q tests/test_packaging.py

bench: ## The side-by-side benchmark (benchmarks/run: installs nginx, wrk and the peers; long)
	benchmarks/run

fuzz: ## The Rust fuzz targets, FUZZ_SECONDS each (default 30)
	scripts/fuzz $(FUZZ_SECONDS)

soak: $(BUILD) ## SOAK_REQUESTS mixed requests; fails on leaked descriptors or growing memory
	$(ENV) python scripts/soak --requests $(SOAK_REQUESTS)

all: lint typecheck docs test soak fuzz ## Everything scripts/test runs
