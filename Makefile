# The two commands a new user needs: `make demo` and `make test`.
# Both install what is missing (apt-get, as root), then build.
BUILD      ?= build
TEST_BUILD ?= build-test
O2_BUILD   ?= build-o2
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local
FUZZ_SECONDS ?= 60
# The Codex CLI the conformance suite judges with: pinned, installed into
# the test build directory, never globally.
CODEX_VERSION ?= 0.169.0
CODEX_CLI  = $(TEST_BUILD)/codex-cli/node_modules/.bin/codex

.PHONY: all deps build demo test conformance bench install fuzz stress clean

all: build

deps:
	@scripts/install-deps.sh test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/sluice

# The tests run on a sanitized -O0 build; the optimised build is compiled
# with -Werror too, because -O2 finds maybe-uninitialized paths -O0 does not.
test: deps
	@cmake -S . -B $(O2_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TESTS=ON -DSLUICE_WERROR=ON >/dev/null
	@cmake --build $(O2_BUILD) -j $(JOBS)
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_WERROR=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

# The codex publisher's files, read by the real Codex CLI (docs/testing.md,
# "Client conformance"). Needs root (a private mount namespace) and npm
# once, to install the pinned Codex; not part of `make test`.
conformance:
	@scripts/install-deps.sh conformance
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_WERROR=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@[ "$$($(CODEX_CLI) --version 2>/dev/null)" = "codex-cli $(CODEX_VERSION)" ] || \
		npm install --prefix $(TEST_BUILD)/codex-cli --save-exact --no-audit --no-fund \
			--loglevel=error @openai/codex@$(CODEX_VERSION)
	@tests/conformance/run.sh $(TEST_BUILD)/sluice $(CODEX_CLI) $(TEST_BUILD)/conformance

bench: build
	@scripts/install-deps.sh bench
	@bench/run.sh $(BUILD)/sluice

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

fuzz:
	@scripts/install-deps.sh fuzz
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON -DSLUICE_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

stress: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_WERROR=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && SLUICE_CONCURRENCY_ROUNDS=100 SLUICE_CRASH_ROUNDS=200 SLUICE_TELEMETRY_CRASH_ROUNDS=50 SLUICE_DAEMON_CRASH_ROUNDS=100 ctest --output-on-failure -R stress

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(O2_BUILD) $(FUZZ_BUILD)
