#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, seeded from
# the golden vectors and captured ClientHellos. Exits non-zero on any crash.
# Longer campaigns: bash tests/fuzz/run.sh build-fuzz 600   (see docs/testing.md)
set -uo pipefail
build="${1:?build dir}"; seconds="${2:-10}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${KEDGE_FUZZ_WORK:-$build/fuzz-work}"
mkdir -p "$work"
/usr/bin/python3 "$here/tests/fuzz/seed_corpus.py" "$work/seeds" >/dev/null || { echo "seed generation failed"; exit 1; }
status=0
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz_*)
if [ "${#targets[@]}" -eq 0 ]; then echo "no fuzz targets in $build/tests/fuzz"; exit 1; fi
for target in "${targets[@]}"; do
  [ -x "$target" ] || continue
  name="$(basename "$target")"
  corpus="$work/corpus/$name"; mkdir -p "$corpus"
  seeds="$work/seeds/$name"; [ -d "$seeds" ] || seeds="$work/seeds/common"
  mkdir -p "$seeds"
  log="$work/$name.log"
  if "$target" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/$name-" \
      "$corpus" "$seeds" >"$log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz $name: ${execs:-?} executions in ${seconds}s, no crash"
  else
    echo "fuzz $name: CRASH (see $log)"; tail -30 "$log"; status=1
  fi
done
exit $status
