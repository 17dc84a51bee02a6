#!/usr/bin/env bash
# LSTM and GRU training and inference, Backprop against PyTorch eager, interleaved in one sitting
# (two rounds), on Fashion-MNIST rows: `backprop-bench lstm|gru` and Benchmarks/bench_rnn_torch.py
# run the same workload. Needs torch for python3 (scripts/test.sh installs it).
#
#   Benchmarks/compare-recurrent.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-3}"
export OMP_NUM_THREADS=2
swift build -c release --product backprop-bench >&2
lscpu | grep -m1 "Model name" || true
for round in 1 2; do
    for cell in lstm gru; do
        echo "== round $round: PyTorch $cell"
        python3 Benchmarks/bench_rnn_torch.py "$cell" --epochs "$epochs" --threads 2 | grep '"summary"'
        echo "== round $round: Backprop $cell"
        .build/release/backprop-bench "$cell" --epochs "$epochs" | grep '"summary"'
    done
done
