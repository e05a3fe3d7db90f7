#!/usr/bin/env bash
# The README's quickstart: installs what is missing, builds kedge and the test
# tools, then runs the main job on this machine (see scripts/quickstart.py).
# Needs root (network namespaces).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target kedge kedge_integration_tools
exec /usr/bin/python3 scripts/quickstart.py build
