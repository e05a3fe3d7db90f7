#!/usr/bin/env bash
# The README's test command: installs what is missing, builds kedge, and runs
# every test tier: unit + golden (Catch2), integration (real clients, real TLS,
# network namespaces, librdkafka mock clusters 2.0.2 and 2.12), the unit tests
# again under ASan+UBSan, and a short libFuzzer run of every fuzz target.
# Needs root (network namespaces). Prints a final "N passed, M failed" line.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
jobs="${KEDGE_JOBS:-$(nproc)}"
fuzz_seconds="${KEDGE_FUZZ_SECONDS:-10}"

bash scripts/install-deps.sh || { echo "install-deps failed"; exit 1; }

passed=0
failed=0
failures=()
stage() {  # stage NAME COMMAND...
  local name="$1"; shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: ok"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED"
  fi
}

build_main() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build build -j "$jobs"
}
build_asan() {
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKEDGE_SANITIZE=ON >/dev/null &&
  cmake --build build-asan -j "$jobs"
}
build_fuzz() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEDGE_FUZZ=ON \
    -DKEDGE_BUILD_INTEGRATION=OFF >/dev/null &&
  cmake --build build-fuzz -j "$jobs"
}

stage "build" build_main
stage "unit+golden tests" ctest --test-dir build --output-on-failure -LE integration -j "$jobs"
stage "integration tests" ctest --test-dir build --output-on-failure -L integration
stage "golden vectors are reproducible" /usr/bin/python3 tests/golden/generate.py --check
stage "sanitizer build (ASan+UBSan)" build_asan
stage "unit+golden tests under ASan+UBSan" ctest --test-dir build-asan --output-on-failure -LE integration -j "$jobs"
stage "fuzz build (libFuzzer)" build_fuzz
stage "fuzz smoke (${fuzz_seconds}s per target)" bash tests/fuzz/run.sh build-fuzz "$fuzz_seconds"

echo
if [ "$failed" -gt 0 ]; then echo "failed stages: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
