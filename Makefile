# Thin wrapper over CMake. A fresh Debian machine needs only:
#   make demo   - install packages, build, run the bank demo
#   make test   - install packages, build, run every test suite
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo test asan tsan fuzz coverage warnings clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The demo writes a fresh store each run; ./bank-data (and its chart,
# ./bank-data-acct-0001.svg) are the demo's own.
demo: build
	@rm -rf ./bank-data ./bank-data-acct-0001.svg
	$(BUILD)/tools/es-bank demo --db ./bank-data

# After ctest's summary, each Check suite's own summary line (from ctest's log).
test: build
	@cd $(BUILD) && { ctest --output-on-failure -j $(JOBS); rc=$$?; \
	  echo "Check suites:"; grep -h "^[0-9]*%: Checks:" Testing/Temporary/LastTest.log; \
	  exit $$rc; }

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan \
	  CMAKE_FLAGS="-DES_ENABLE_ASAN=ON -DES_ENABLE_UBSAN=ON -DCMAKE_BUILD_TYPE=Debug"

# The whole suite under ThreadSanitizer: group commit, concurrent reads and
# the dump's writer thread.
tsan:
	@$(MAKE) --no-print-directory test BUILD=build-tsan \
	  CMAKE_FLAGS="-DES_ENABLE_TSAN=ON -DCMAKE_BUILD_TYPE=Debug"

# Each libFuzzer target for FUZZ_SECONDS (clang, ASan+UBSan), from its seed
# corpus; a crash fails the run (scripts/fuzz.sh says where it is saved).
FUZZ_SECONDS ?= 10
fuzz:
	@scripts/install-deps.sh clang libclang-rt-dev
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DES_BUILD_FUZZERS=ON \
	  -DES_ENABLE_ASAN=ON -DES_ENABLE_UBSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzzers
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# Warning-free with -Werror: gcc Debug, RelWithDebInfo, Release; clang Release.
warnings:
	@scripts/warnings.sh

# Line and branch coverage per module (gcov; HTML too with lcov).
coverage:
	@scripts/coverage.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build-cov build-warn-*
