#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite (Swift Testing, release-mode kernels are
# not needed: debug build). Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
exec swift test "$@"
