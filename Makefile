# Thin wrapper around CMake so that the everyday commands are one word each.
#   make            configure + build into build/
#   make deps       install the missing Debian packages (scripts/install-deps)
#   make test       install missing packages, build, run the whole suite (ctest)
#   make demo       install missing packages, build, run the example pipeline under git roar
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

# Configured means generated: a configure that failed (a package missing) leaves a
# CMakeCache.txt but no build system, and the next make must configure again, not try
# a build that cannot start. CMake writes TargetDirectories.txt only once it has
# generated, with any generator.
configure:
	@test -f $(BUILD)/CMakeFiles/TargetDirectories.txt || \
		$(CMAKE) -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) || { \
		echo "make: configure failed; on Debian, 'make deps' (as root) installs the packages it needs" >&2; \
		exit 1; }

build: configure
	$(CMAKE) --build $(BUILD) -j$(JOBS)

deps:
	scripts/install-deps

# The README's two commands each start from a fresh Debian 12 machine, in either order,
# so both install what they need first. Sequential on purpose: packages first, then the
# build, then the tests or the demo. Plain `make` does not touch packages.
test:
	$(MAKE) deps
	$(MAKE) build
	$(CTEST) --test-dir $(BUILD) --output-on-failure -j$(JOBS)

demo:
	$(MAKE) deps
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
