"""Reads the log of Benchmarks/compare-all.sh and prints one table: per workload the training and
inference samples/s of Backprop and each peer (medians over rounds), Backprop's ratio to the
fastest peer, and the share of the measured FMA ceiling Backprop reaches."""
import json
import re
import statistics
import sys
from collections import defaultdict

FLOPS = {"mlp": 1.07e6, "cnn": 8.48e6, "vgg": 307.6e6}
ceiling = None
train = defaultdict(lambda: defaultdict(list))
infer = defaultdict(lambda: defaultdict(list))
flops = dict(FLOPS)
for line in open(sys.argv[1]):
    m = re.match(r"rep \d+ threads \d+ fp32_fma_gflops_total ([\d.]+)", line)
    if m:
        ceiling = max(ceiling or 0, float(m.group(1)))
        continue
    parts = line.split(" ", 2)
    if len(parts) < 3 or not parts[2].startswith("{"):
        continue
    source, workload, data = parts[0], parts[1], json.loads(parts[2])
    if source == "backprop":
        train[workload]["Backprop"].append(data["train_samples_per_s"])
        infer[workload]["Backprop"].append(data["inference_samples_per_s"])
        flops[workload] = data["forward_flops_per_sample"]
    elif source in ("torch-train", "keras-train"):
        name = "PyTorch eager" if source == "torch-train" else "Keras/JAX"
        train[workload][name].append(data["samples_per_s_median"])
    elif source == "torch-inference":
        infer[workload]["PyTorch eager"].append(data["inference_samples_per_s"])
    elif source == "torch-own":
        train[workload]["PyTorch eager"].append(data["train_samples_per_s"])
        infer[workload]["PyTorch eager"].append(data["inference_samples_per_s"])

print(f"FMA ceiling (fma_peak.c, 2 threads): {ceiling:.0f} GFLOP/s" if ceiling else "FMA ceiling: not measured")
print(f"{'workload':9} {'':10} {'Backprop':>10} {'peers':32} {'ratio':>7} {'% ceiling':>9}")
for workload in train:
    for kind, table, factor in (("training", train, 3), ("inference", infer, 1)):
        rates = {name: statistics.median(values) for name, values in table[workload].items() if values}
        ours = rates.pop("Backprop", None)
        if ours is None:
            continue
        peers = ", ".join(f"{name} {rate:,.0f}" for name, rate in rates.items())
        ratio = f"{ours / max(rates.values()):.2f}×" if rates else "-"
        share = f"{factor * flops[workload] * ours / 1e9 / ceiling * 100:.0f} %" if ceiling else "-"
        print(f"{workload:9} {kind:10} {ours:>10,.0f} {peers:32} {ratio:>7} {share:>9}")
