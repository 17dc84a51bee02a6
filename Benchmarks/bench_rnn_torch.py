"""PyTorch's side of `backprop-bench lstm|gru`: the same workload in PyTorch eager on the CPU.

    python3 Benchmarks/bench_rnn_torch.py lstm|gru [--epochs 3] [--batch-size 128] [--threads 2]

Fashion-MNIST images as sequences of 28 rows of 28 pixels (in [0, 1]), nn.LSTM or nn.GRU of 128
units (batch_first, one layer), its last output through nn.Linear(128, 10); Adam (lr 1e-3),
cross-entropy, a new permutation each epoch, the last partial batch kept. Prints one line per
epoch and a summary line as JSON: training samples/s (median of epochs 2…, the first is warm-up),
inference samples/s under torch.inference_mode() at batch 256, test accuracy.
"""
import argparse
import json

import torch

from torch_loop import fashion_mnist, train_and_measure


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
    x, y, tx, ty = fashion_mnist(args.data)
    summary = {"summary": True, "framework": f"pytorch {torch.__version__} eager", "cell": args.cell, "threads": args.threads}
    summary.update(train_and_measure(Net(args.cell), x, y, tx, ty, args.epochs, args.batch_size))
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
