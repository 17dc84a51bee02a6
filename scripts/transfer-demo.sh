#!/usr/bin/env bash
# The transfer-learning demo of the README: pretrain the CNN on Fashion-MNIST classes 0–4, then learn
# classes 5–9 from only 500 labelled examples — with the pretrained convolutions (frozen, then
# fine-tuned) and, for comparison, the same network from scratch. Prints each test accuracy.
# Extra arguments go to every training run (e.g. --threads 2). Everything lands in runs/transfer-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
swift build -c release --product backprop >&2
backprop=.build/release/backprop
out=runs/transfer-demo
rm -rf "$out"
mkdir -p "$out"
few=(--only-classes 5,6,7,8,9 --train-samples 500 --epochs 20 --batch-size 32 --quiet)

echo "1. Pretraining the CNN on classes 0-4 (30,000 images, 3 epochs)"
"$backprop" train --model cnn --only-classes 0,1,2,3,4 --epochs 3 --quiet \
    --save "$out/pretrained.safetensors" --checkpoint-dir "$out/pretrained" "$@"
echo "2. Transfer to classes 5-9 with 500 labelled images: the convolutions frozen, the dense layers trained anew"
"$backprop" finetune --from "$out/pretrained.safetensors" "${few[@]}" \
    --save "$out/transfer.safetensors" --checkpoint-dir "$out/transfer" "$@"
echo "3. The same, then the convolutions fine-tuned too from epoch 11 at 0.1 x the learning rate"
"$backprop" finetune --from "$out/pretrained.safetensors" "${few[@]}" --unfreeze-after 10 \
    --save "$out/fine-tuned.safetensors" --checkpoint-dir "$out/fine-tuned" "$@"
echo "4. The same network from scratch on the 500 images"
"$backprop" train --model cnn "${few[@]}" --save "$out/scratch.safetensors" --checkpoint-dir "$out/scratch" "$@"
