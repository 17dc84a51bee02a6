#!/usr/bin/env bash
# Measures Backprop and its peers (../shared/peers: Keras 3 on JAX, PyTorch eager) back to back on
# the same machine, so their ratio can be quoted. Needs the peers' venv (bash ../shared/peers/setup.sh).
#
#   Benchmarks/compare-with-peers.sh [EPOCHS]      # MLP 784-512-256-10, batch 128, Adam
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-6}"
peers="${PEERS_DIR:-$(cd .. && pwd)/shared/peers}"
venv="${PEERS_VENV:-$HOME/.cache/backprop-peers-venv}"
export OMP_NUM_THREADS=2

swift build -c release --product backprop-bench >&2
for round in 1 2; do
    echo "== round $round: Keras/JAX MLP"
    (cd "$peers" && PYTHONDONTWRITEBYTECODE=1 /usr/bin/time -f "peak RSS %M kB" "$venv/bin/python" bench_train_keras.py mlp --epochs "$epochs" 2>&1 | grep -E '"summary"|peak RSS')
    echo "== round $round: Backprop MLP"
    /usr/bin/time -f "peak RSS %M kB (whole process)" .build/release/backprop-bench mlp --epochs "$epochs" 2>&1
    echo "== round $round: PyTorch eager MLP"
    (cd "$peers" && PYTHONDONTWRITEBYTECODE=1 /usr/bin/time -f "peak RSS %M kB" "$venv/bin/python" bench_train_torch.py mlp --epochs "$epochs" 2>&1 | grep -E '"summary"|peak RSS')
done
