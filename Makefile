# The two commands a new user needs: `make demo` and `make test`.
# Both install what is missing (apt-get, as root), then build.
BUILD      ?= build
TEST_BUILD ?= build-test
O2_BUILD   ?= build-o2
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test bench install fuzz stress clean

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
