#!/usr/bin/env bash
# Installs every Debian package (and the one npm package) kedge's build, tests,
# quickstart and benchmarks need. Idempotent: packages already present are skipped.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

DEBS=(
  build-essential cmake pkg-config ninja-build
  libssl-dev openssl libuv1-dev node-llhttp nlohmann-json3-dev libfmt-dev catch2
  zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev
  libprotobuf-dev protobuf-compiler python3-protobuf
  librdkafka-dev kcat python3-confluent-kafka python3-kafka
  iproute2 dnsmasq-base procps psmisc curl
  clang libclang-rt-14-dev
  python3 python3-yaml python3-jwt python3-cryptography python3-websockets
  # headless Chromium and NSS's certutil (trusting the test CA): test_gateway_http_live.py drives docs/http-live.html
  chromium libnss3-tools
)
# kubectl (for `kubectl kustomize deploy/kubernetes` in the deploy tests): Debian's kubernetes-client, unless a
# kubectl is already installed (another kubectl package owns /usr/bin/kubectl and would conflict).
command -v kubectl >/dev/null 2>&1 || DEBS+=(kubernetes-client)
# The machine image ships Node.js with npm; Debian's npm conflicts with it, so
# only fall back to Debian's packages where npm is missing.
command -v npm >/dev/null 2>&1 || DEBS+=(nodejs npm)
# Optional extras used by fuzzing/benchmarks/protocol cross-checks.
if [ "${KEDGE_DEPS_EXTRA:-1}" = 1 ]; then
  DEBS+=(haproxy tshark valgrind libbenchmark-dev linux-perf)
fi

missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # tshark asks whether non-root users may capture; answer no, non-interactively.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# librdkafka 2.12 (modern flexible protocol versions) is built by node-rdkafka's
# install step; we use only its librdkafka build (headers + .so), never its JS.
rk_dir="$here/third_party/node-rdkafka"
if [ ! -f "$rk_dir/node_modules/node-rdkafka/build/deps/librdkafka.so" ] && \
   [ ! -f "$rk_dir/node_modules/node-rdkafka/build/deps/librdkafka.so.1" ]; then
  echo "install-deps: building librdkafka 2.12 via npm node-rdkafka@3.6.1 (several minutes)"
  mkdir -p "$rk_dir"
  ( cd "$rk_dir" && [ -f package.json ] || echo '{"name":"kedge-rdkafka-host","private":true}' > "$rk_dir/package.json"
    cd "$rk_dir" && npm install --no-audit --no-fund --loglevel=error node-rdkafka@3.6.1 )
fi
echo "install-deps: ok"
