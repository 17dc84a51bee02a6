#!/usr/bin/env bash
# Every workload, Backprop and its peers interleaved in one sitting, with the machine's FMA ceiling
# measured in the same run (../shared/peers/fma_peak.c). Per workload it prints training and
# inference samples/s for each framework, Backprop's ratio to the fastest peer and the share of the
# ceiling reached (training counted as 3× the forward FLOPs).
#
#   Benchmarks/compare-all.sh [mlp cnn vgg resnet lstm gru]      (ROUNDS=2 for two rounds; default 1)
#
# Peers: PyTorch eager (training: ../shared/peers/bench_train_torch.py, or Benchmarks/bench_rnn_torch.py
# for lstm/gru, Benchmarks/bench_resnet_torch.py for resnet; inference: Benchmarks/bench_inference_torch.py)
# and Keras 3 on JAX
# (bench_train_keras.py) when the peers' venv exists (bash ../shared/peers/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
peers="${PEERS_DIR:-$(cd .. && pwd)/shared/peers}"
venv="${PEERS_VENV:-$HOME/.cache/backprop-peers-venv}"
python="python3"
if [ -x "$venv/bin/python" ]; then python="$venv/bin/python"; fi
workloads=("$@")
if [ ${#workloads[@]} -eq 0 ]; then workloads=(mlp cnn vgg resnet lstm gru); fi
rounds="${ROUNDS:-1}"
export OMP_NUM_THREADS=2
log="$(mktemp)"
swift build -c release --product backprop-bench >&2
cc -O2 -march=native -pthread "$peers/fma_peak.c" -o "$log.fma"
lscpu | grep -m1 "Model name" >&2 || true
"$log.fma" 2 | tee -a "$log" >&2
epochs() { case "$1" in mlp) echo 4 ;; cnn) echo 3 ;; *) echo 3 ;; esac; }
for round in $(seq "$rounds"); do
    for w in "${workloads[@]}"; do
        echo "== round $round: $w" >&2
        case "$w" in
            mlp|cnn|vgg)
                args=(--epochs "$(epochs "$w")"); [ "$w" = vgg ] && args=(--steps 40 --runs 3)
                (cd "$peers" && PYTHONDONTWRITEBYTECODE=1 "$python" bench_train_torch.py "$w" "${args[@]}") |
                    grep '"summary"' | sed "s/^/torch-train $w /" >> "$log" || true
                if KERAS_BACKEND=jax "$python" -c "import keras, jax" 2>/dev/null; then
                    (cd "$peers" && PYTHONDONTWRITEBYTECODE=1 "$python" bench_train_keras.py "$w" "${args[@]}") |
                        grep '"summary"' | sed "s/^/keras-train $w /" >> "$log" || true
                fi
                "$python" Benchmarks/bench_inference_torch.py "$w" --peers "$peers" | sed "s/^/torch-inference $w /" >> "$log"
                bench=(--epochs "$(epochs "$w")"); [ "$w" = vgg ] && bench=(--steps 40)
                .build/release/backprop-bench "$w" "${bench[@]}" | grep '"summary"' | sed "s/^/backprop $w /" >> "$log"
                ;;
            resnet)
                (cd Benchmarks && "$python" bench_resnet_torch.py --epochs 3) | grep '"summary"' | sed "s/^/torch-own $w /" >> "$log"
                .build/release/backprop-bench resnet --epochs 3 | grep '"summary"' | sed "s/^/backprop $w /" >> "$log"
                ;;
            lstm|gru)
                "$python" Benchmarks/bench_rnn_torch.py "$w" --epochs 3 | grep '"summary"' | sed "s/^/torch-own $w /" >> "$log"
                .build/release/backprop-bench "$w" --epochs 3 | grep '"summary"' | sed "s/^/backprop $w /" >> "$log"
                ;;
        esac
    done
done
python3 Benchmarks/summarize.py "$log"
