#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite (Swift Testing, release-mode kernels are
# not needed: debug build). Extra arguments go to `swift test`. The tests also need Python's NumPy and
# the reference safetensors package (independent readers and writers of the files Backprop writes):
# installed from PyPI when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
if ! python3 -c "import numpy, safetensors.numpy" 2>/dev/null; then
    echo "Installing NumPy and safetensors for the tests (pip)"
    python3 -m pip install --quiet --disable-pip-version-check numpy safetensors
fi
exec swift test "$@"
