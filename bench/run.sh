#!/usr/bin/env bash
# kedge benchmark suite: one command, one run, every path interleaved (see docs/performance.md).
#   bash bench/run.sh [--rounds N] [--duration S] [--only produce,fetch,...] [--idle 1000,10000]
# Builds what it needs in build-bench/ (its own build dir), installs missing packages only through
# scripts/install-deps.sh, needs root for a high `ulimit -n` (10k idle connections = 40k sockets here).
# Companion benchmarks, run on their own against a build dir (their figures are in the docs they name):
#   bench/policy_pair.py   what ACLs or a namespace cost (docs/policy.md, docs/namespaces.md)
#   bench/http_front.py    the HTTP/WebSocket front against librdkafka through the same kedge: WebSocket fetch MB/s,
#                          REST produce records/s, memory per idle WebSocket (docs/performance.md "HTTP/WebSocket
#                          front"); needs `--target kedge mock_cluster_rdk212 kload httpload rdkload`
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KEDGE_BENCH_BUILD:-$root/build-bench}"

need_deps=0
for tool in cmake ninja haproxy taskset openssl; do command -v "$tool" >/dev/null || need_deps=1; done
[ -f /usr/include/benchmark/benchmark.h ] || need_deps=1
if [ "$need_deps" = 1 ]; then bash "$root/scripts/install-deps.sh"; fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEDGE_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target kedge mock_cluster_rdk212 kload codec_bench

# 10k idle TLS connections: 10k kload sockets + 20k proxy sockets + 10k mock sockets.
ulimit -Hn 200000 2>/dev/null || true
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 "$root/bench/bench.py" --build "$build" "$@"
