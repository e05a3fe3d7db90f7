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

# Individual test counts across tiers (ctest cases and fuzz targets) for the closing line.
tests_passed=0
tests_failed=0
run_ctest() {  # run_ctest BUILD_DIR CTEST_ARGS...: counts cases from ctest's summary line
  local dir="$1"; shift
  local log; log="$(mktemp)"
  ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log"
  local rc="${PIPESTATUS[0]}"
  local summary total failed_count
  summary="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)"
  if [ -n "$summary" ]; then
    failed_count="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")"
    total="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$summary")"
    tests_passed=$((tests_passed + total - failed_count)); tests_failed=$((tests_failed + failed_count))
  else
    tests_failed=$((tests_failed + 1))
  fi
  rm -f "$log"
  return "$rc"
}
run_fuzz() {
  local log; log="$(mktemp)"
  bash tests/fuzz/run.sh build-fuzz "$fuzz_seconds" 2>&1 | tee "$log"
  local rc="${PIPESTATUS[0]}"
  tests_passed=$((tests_passed + $(grep -c ', no crash$' "$log")))
  tests_failed=$((tests_failed + $(grep -c ': CRASH' "$log")))
  rm -f "$log"
  return "$rc"
}

stage "build" build_main
stage "unit+golden tests" run_ctest build -LE integration -j "$jobs"
stage "integration tests" run_ctest build -L integration
stage "golden vectors are reproducible" /usr/bin/python3 tests/golden/generate.py --check
# kedge's rewrites equal expected_hex byte for byte (unit stage), so this checks kedge's output too.
stage "golden vectors decode in tshark's Kafka dissector" /usr/bin/python3 tests/golden/tshark_check.py
stage "refusal vectors are reproducible" /usr/bin/python3 tests/golden/refusals/generate_refusals.py --check
# kedge's refusals equal expected_hex byte for byte (unit stage), so this checks kedge's answers too.
stage "refusal vectors decode in tshark's Kafka dissector" /usr/bin/python3 tests/golden/refusals/tshark_refusals.py
stage "split vectors are reproducible" /usr/bin/python3 tests/golden/split/generate_split.py --check
# split_request and merge_split_response equal forwarded_hex / merged_hex byte for byte (unit stage), so this checks
# kedge's forwarded requests and merged responses too.
stage "split vectors decode in tshark's Kafka dissector" /usr/bin/python3 tests/golden/split/tshark_split.py
# web/'s assembler gives these vectors' events and close codes, its writer their frames byte for byte (unit stage);
# python3-websockets serialized every frame and, where it judges, decided the outcome.
stage "websocket vectors are reproducible" /usr/bin/python3 tests/golden/websocket/generate_websocket.py --check
# kedge's own Kafka client messages (data_client.h) and the APISIX pub-sub messages (web/pubsub_codec.h) equal these
# vectors (unit stage); independent encoders wrote them (python from the Kafka specs; python3-protobuf).
stage "data-client and pub-sub vectors are reproducible" bash -c \
  '/usr/bin/python3 tests/golden/data_client/generate_data_client.py --check &&
   /usr/bin/python3 tests/golden/pubsub/generate.py --check'
stage "request, topic- and group-filter and rename vectors are reproducible" bash -c \
  '/usr/bin/python3 tests/golden/requests/generate_requests.py --check &&
   /usr/bin/python3 tests/golden/topic_filter/generate_topic_filter.py --check &&
   /usr/bin/python3 tests/golden/group_filter/generate_group_filter.py --check &&
   /usr/bin/python3 tests/golden/offset_filter/generate_offset_filter.py --check &&
   /usr/bin/python3 tests/golden/rename/generate_rename.py --check'
# read_request_resources, filter_metadata_topics, filter_list_groups and filter_offset_fetch_topics equal the vectors
# (unit stage); tshark decodes them independently.
stage "request, topic- and group-filter vectors decode in tshark's Kafka dissector" bash -c \
  '/usr/bin/python3 tests/golden/requests/tshark_requests.py && /usr/bin/python3 tests/golden/topic_filter/tshark_topic_filter.py &&
   /usr/bin/python3 tests/golden/group_filter/tshark_group_filter.py &&
   /usr/bin/python3 tests/golden/offset_filter/tshark_offset_filter.py'
stage "sanitizer build (ASan+UBSan)" build_asan
stage "unit+golden tests under ASan+UBSan" run_ctest build-asan -LE integration -j "$jobs"
stage "fuzz build (libFuzzer)" build_fuzz
stage "fuzz smoke (${fuzz_seconds}s per target)" run_fuzz

echo
echo "stages: $passed of $((passed + failed)) ok${failures:+; failed: ${failures[*]}}"
# A failed stage that ran no countable test (e.g. the build) still counts as a failure.
if [ "$failed" -gt 0 ] && [ "$tests_failed" -eq 0 ]; then tests_failed="$failed"; fi
echo "$tests_passed passed, $tests_failed failed"
[ "$failed" -eq 0 ]
