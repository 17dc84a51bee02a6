"""PyTorch's inference side of Benchmarks/compare-all.sh: the peers' MLP, CNN and VGG-style models
(../shared/peers/models_torch.py) in eval mode under torch.inference_mode(), batch 256, 2 threads.

    python3 Benchmarks/bench_inference_torch.py mlp|cnn|vgg [--peers DIR] [--samples 10000]

Random inputs of the model's shape (throughput does not depend on the values). Prints one JSON
summary line: inference samples/s, the median of 3 passes over the samples after one warm-up batch.
"""
import argparse
import json
import statistics
import sys
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["mlp", "cnn", "vgg"])
    p.add_argument("--peers", default="../shared/peers")
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    sys.path.insert(0, args.peers)
    import models_torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = models_torch.build(args.model).eval()
    samples = args.samples if args.model != "vgg" else min(args.samples, 1024)
    x = torch.randn(samples, *models_torch.INPUT_SHAPES[args.model])
    rates = []
    with torch.inference_mode():
        model(x[:256])
        for _ in range(3):
            start = time.perf_counter()
            for i in range(0, samples, 256):
                model(x[i:i + 256])
            rates.append(samples / (time.perf_counter() - start))
    print(json.dumps({"summary": True, "framework": f"pytorch {torch.__version__} eager", "workload": args.model,
                      "inference_samples_per_s": round(statistics.median(rates), 1)}))


if __name__ == "__main__":
    main()
