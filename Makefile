# Thin wrapper around CMake so that the everyday commands are one word each.
#   make            configure + build into build/
#   make test       install missing packages, build, run the whole suite (ctest)
#   make demo       build, then run the example pipeline under git roar
#   make install    install under PREFIX (default /usr/local)
#   make asan-test  the suite again in an ASan+UBSan build (build-asan/)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (build-fuzz/, clang)

BUILD        ?= build
PREFIX       ?= /usr/local
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE        ?= cmake
CTEST        ?= ctest

.PHONY: all build configure deps test demo install asan-test fuzz clean

all: build

configure:
	@test -f $(BUILD)/CMakeCache.txt || \
		$(CMAKE) -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: configure
	$(CMAKE) --build $(BUILD) -j$(JOBS)

deps:
	scripts/install-deps

# Sequential on purpose: packages first, then the build, then the tests.
test:
	$(MAKE) deps
	$(MAKE) build
	$(CTEST) --test-dir $(BUILD) --output-on-failure -j$(JOBS)

demo:
	$(MAKE) build
	examples/demo.sh $(BUILD)

install: build
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

asan-test:
	@test -f build-asan/CMakeCache.txt || \
		CC=clang $(CMAKE) -S . -B build-asan -DROAR_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	$(CMAKE) --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		$(CTEST) --test-dir build-asan --output-on-failure -j$(JOBS)

fuzz:
	@test -f build-fuzz/CMakeCache.txt || \
		CC=clang $(CMAKE) -S . -B build-fuzz -DROAR_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build build-fuzz -j$(JOBS)
	scripts/run-fuzzers build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
