#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite (Swift Testing, release-mode kernels are
# not needed: debug build). Extra arguments go to `swift test`. The tests also need Python's NumPy, the
# reference safetensors package (independent readers and writers of the files Backprop writes) and
# PyTorch (the other side of export and import), TensorBoard (its event reader) and Chromium (renders
# the HTML report): installed with pip and apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
if ! python3 -c "import numpy, safetensors.numpy" 2>/dev/null; then
    echo "Installing NumPy and safetensors for the tests (pip)"
    python3 -m pip install --quiet --disable-pip-version-check numpy safetensors
fi
if ! python3 -c "import tensorboard" 2>/dev/null; then
    echo "Installing TensorBoard for the monitoring tests (its own event reader checks our files) (pip)"
    python3 -m pip install --quiet --disable-pip-version-check tensorboard
fi
if ! command -v chromium >/dev/null 2>&1; then
    # The run report is rendered in headless Chromium by the monitoring tests.
    echo "Installing Chromium for the report tests (apt)"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
if ! python3 -c "import torch" 2>/dev/null; then
    # The interop tests load exported models in PyTorch. The CPU build: from pip's configured
    # wheels, else PyTorch's CPU index, else PyPI's default build.
    echo "Installing PyTorch (CPU) for the interop tests (pip)"
    python3 -m pip install --quiet --disable-pip-version-check "torch==2.13.0+cpu" 2>/dev/null ||
        python3 -m pip install --quiet --disable-pip-version-check --index-url https://download.pytorch.org/whl/cpu torch ||
        python3 -m pip install --quiet --disable-pip-version-check torch
fi
exec swift test "$@"
