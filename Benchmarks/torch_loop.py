"""The training and inference loop the PyTorch sides of `backprop-bench` share (bench_rnn_torch.py,
bench_resnet_torch.py): Adam (lr 1e-3), cross-entropy, a new permutation each epoch, the last
partial batch kept; one JSON line per epoch; then inference under torch.inference_mode() at batch
256 over the test set."""
import gzip
import json
import statistics
import struct
import time

import numpy as np
import torch


def idx(path):
    """The array in a gzip-compressed IDX file."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(folder):
    """(train images, train labels, test images, test labels), images as floats in [0, 1]."""
    load = lambda name: idx(f"{folder}/{name}.gz")
    images = lambda name: torch.from_numpy(load(name).astype(np.float32) / 255)
    labels = lambda name: torch.from_numpy(load(name).astype(np.int64))
    return (images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte"),
            images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte"))


def prepare(parser, batch_size):
    """Adds the options every script shares (--epochs, --batch-size, --threads, --data), parses
    them, sets the thread count and seed 0, and loads Fashion-MNIST: (args, (x, y, tx, ty))."""
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return args, fashion_mnist(args.data)


def report(args, model, data, **fields):
    """Trains `model` on `data`, then prints the summary line: `fields`, the framework, threads and
    the measurements."""
    summary = {"summary": True, "framework": f"pytorch {torch.__version__} eager", **fields, "threads": args.threads}
    summary.update(train_and_measure(model, *data, args.epochs, args.batch_size))
    print(json.dumps(summary), flush=True)


def train_and_measure(model, x, y, tx, ty, epochs, batch_size):
    """Trains, then returns the summary fields: training samples/s (median of epochs 2…),
    inference samples/s and test accuracy."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rates = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x))
        start = time.perf_counter()
        for i in range(0, len(x), batch_size):
            index = order[i:i + batch_size]
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
    return {
        "train_samples_per_s": round(statistics.median(rates[1:] or rates), 1),
        "inference_samples_per_s": round(inference, 1), "test_accuracy": correct / len(tx),
    }
