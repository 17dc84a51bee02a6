"""PyTorch's side of `backprop-bench lstm|gru`: the same workload in PyTorch eager on the CPU.

    python3 Benchmarks/bench_rnn_torch.py lstm|gru [--epochs 3] [--batch-size 128] [--threads 2]

Fashion-MNIST images as sequences of 28 rows of 28 pixels (in [0, 1]), nn.LSTM or nn.GRU of 128
units (batch_first, one layer), its last output through nn.Linear(128, 10); Adam (lr 1e-3),
cross-entropy, a new permutation each epoch, the last partial batch kept. Prints one line per
epoch and a summary line as JSON: training samples/s (median of epochs 2…, the first is warm-up),
inference samples/s under torch.inference_mode() at batch 256, test accuracy.
"""
import argparse

import torch

from torch_loop import prepare, report


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
    args, data = prepare(p, batch_size=128)
    report(args, Net(args.cell), data, cell=args.cell)

if __name__ == "__main__":
    main()
