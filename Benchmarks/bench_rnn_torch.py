"""PyTorch's side of `backprop-bench lstm|gru`: the same workload in PyTorch eager on the CPU.

    python3 Benchmarks/bench_rnn_torch.py lstm|gru [--epochs 3] [--batch-size 128] [--threads 2]

Fashion-MNIST images as sequences of 28 rows of 28 pixels (in [0, 1]), nn.LSTM or nn.GRU of 128
units (batch_first, one layer), its last output through nn.Linear(128, 10); Adam (lr 1e-3),
cross-entropy, a new permutation each epoch, the last partial batch kept. Prints one line per
epoch and a summary line as JSON: training samples/s (median of epochs 2…, the first is warm-up),
inference samples/s under torch.inference_mode() at batch 256, test accuracy.
"""
import argparse
import gzip
import json
import statistics
import struct
import time

import numpy as np
import torch


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class Net(torch.nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](28, 128, batch_first=True)
        self.head = torch.nn.Linear(128, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cell", choices=["lstm", "gru"])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load = lambda name: idx(f"{args.data}/{name}.gz")
    x = torch.from_numpy(load("train-images-idx3-ubyte").astype(np.float32) / 255)
    y = torch.from_numpy(load("train-labels-idx1-ubyte").astype(np.int64))
    tx = torch.from_numpy(load("t10k-images-idx3-ubyte").astype(np.float32) / 255)
    ty = torch.from_numpy(load("t10k-labels-idx1-ubyte").astype(np.int64))
    model = Net(args.cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rates = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(x))
        start = time.perf_counter()
        for i in range(0, len(x), args.batch_size):
            index = order[i:i + args.batch_size]
            loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        rates.append(len(x) / seconds)
        print(json.dumps({"epoch": epoch, "seconds": round(seconds, 3), "samples_per_s": round(rates[-1], 1)}), flush=True)
    model.eval()
    with torch.inference_mode():
        model(tx[:256])
        start = time.perf_counter()
        correct = 0
        for i in range(0, len(tx), 256):
            correct += (model(tx[i:i + 256]).argmax(1) == ty[i:i + 256]).sum().item()
        inference = len(tx) / (time.perf_counter() - start)
    summary = {
        "summary": True, "framework": f"pytorch {torch.__version__} eager", "cell": args.cell, "threads": args.threads,
        "train_samples_per_s": round(statistics.median(rates[1:] or rates), 1),
        "inference_samples_per_s": round(inference, 1), "test_accuracy": correct / len(tx),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
