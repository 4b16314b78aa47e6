# Hubbub's everyday commands. Every target makes .venv itself on a fresh machine.
PYTHON ?= python3
PORT ?= 5000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# The tests run in parallel, one process per core; `make test PYTEST_ARGS=` runs them serially.
PYTEST_ARGS ?= -n auto
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app hubbub
# A local Kafka broker (deploy/kafka/kafka.sh): jars from Maven Central and its data, both under
# KAFKA_DIR, outside the repository. KAFKA_VERSION, when set, overrides the one in its pom.xml.
KAFKA_PORT ?= 19092
KAFKA_CONTROLLER_PORT ?= 19093
KAFKA_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/hubbub/kafka
KAFKA_SH := KAFKA_PORT=$(KAFKA_PORT) KAFKA_CONTROLLER_PORT=$(KAFKA_CONTROLLER_PORT) \
	KAFKA_DIR="$(KAFKA_DIR)" $(if $(KAFKA_VERSION),KAFKA_VERSION=$(KAFKA_VERSION)) bash deploy/kafka/kafka.sh
# A local S3-compatible server (deploy/s3/s3.sh, Versity Gateway): built from the Go module proxy
# into S3_DIR, where its buckets live too. S3_VERSION, when set, overrides the pinned one.
S3_PORT ?= 19000
S3_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/hubbub/s3
S3_SH := S3_PORT=$(S3_PORT) S3_DIR="$(S3_DIR)" $(if $(S3_VERSION),S3_VERSION=$(S3_VERSION)) \
	bash deploy/s3/s3.sh

.PHONY: install install-test run serve migrate test fuzz bench lint clean kafka kafka-stop kafka-clean \
	s3 s3-stop s3-clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Hubbub needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(FLASK) db upgrade

run: migrate
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Production (tiers 1 and 2): gunicorn with gevent workers; set HUBBUB_DATABASE_URL to
# PostgreSQL and HUBBUB_REDIS_URL to Redis so that the workers share one log and one bus.
serve: migrate
	$(BIN)/gunicorn --config python:hubbub.gunicorn_config --workers $(WORKERS) \
		--bind 127.0.0.1:$(PORT) --access-logfile -

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The API fuzzer (tests/api/test_fuzz.py) at length: `make test` runs it with a few examples
# per operation; this runs FUZZ_EXAMPLES of them, on SQLite and on PostgreSQL.
FUZZ_EXAMPLES ?= 500
fuzz: install-test
	HUBBUB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/api/test_fuzz.py $(PYTEST_ARGS)

# The load benchmark (bench/README.md): every workload on tier 0 and tier 1, e.g.
# make bench BENCH_ARGS="--workload W1 --tier 0" or BENCH_ARGS="--scale 0.05".
BENCH_ARGS ?=
bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

# bandit: medium severity and up (its low findings are asserts for mypy and a sentence that
# mentions a password).
lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/bandit --quiet --recursive src --severity-level medium

# Starts the broker on 127.0.0.1:$(KAFKA_PORT) and returns once it answers; a no-op while it runs.
kafka:
	@$(KAFKA_SH) start

kafka-stop:
	@$(KAFKA_SH) stop

# Stops the broker and deletes its topics; the jars stay.
kafka-clean:
	@$(KAFKA_SH) clean

# Starts the S3 server on 127.0.0.1:$(S3_PORT) and returns once it answers; a no-op while it runs.
s3:
	@$(S3_SH) start

s3-stop:
	@$(S3_SH) stop

# Stops the S3 server and deletes its buckets; the binary stays.
s3-clean:
	@$(S3_SH) clean

clean:
	rm -rf $(VENV) build src/*.egg-info
