#!/usr/bin/env bash
# Installs what is missing, builds in release mode and trains the default model (an MLP on
# Fashion-MNIST), printing its test accuracy. Extra arguments go to `backprop train`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
swift build -c release --product backprop >&2
exec .build/release/backprop train "$@"
