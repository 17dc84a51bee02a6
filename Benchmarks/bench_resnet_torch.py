"""PyTorch's side of `backprop-bench resnet`: the same ResNet-20 in PyTorch eager on the CPU.

    python3 Benchmarks/bench_resnet_torch.py [--epochs 3] [--samples 12800] [--threads 2]

Backprop's `resnet` preset at depth 20 for 28×28×1 images: a 3×3 convolution to 16 channels, then
three stages (16, 32, 64 channels; stride 2 where a stage starts) of three pre-activation blocks
(batch norm, ReLU, 3×3 convolution, batch norm, ReLU, 3×3 convolution; a 1×1 convolution on the
shortcut where the shape changes), batch norm, ReLU, global average pooling, dense to 10 classes.
Convolutions without bias. Adam (lr 1e-3), batch 64, the first `--samples` training images (in
[0, 1]), a new permutation each epoch. Prints one JSON line per epoch and a summary line: training
samples/s (median of epochs 2…), inference samples/s under torch.inference_mode() at batch 256 on
the test images, test accuracy.
"""
import argparse

from torch import nn

from torch_loop import prepare, report


class Block(nn.Module):
    def __init__(self, channels, filters, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, filters, 3, stride, 1, bias=False),
            nn.BatchNorm2d(filters), nn.ReLU(), nn.Conv2d(filters, filters, 3, 1, 1, bias=False))
        self.shortcut = (nn.Conv2d(channels, filters, 1, stride, bias=False)
                         if stride != 1 or channels != filters else nn.Identity())

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


def resnet20():
    layers, channels = [nn.Conv2d(1, 16, 3, 1, 1, bias=False)], 16
    for stage, filters in enumerate([16, 32, 64]):
        for block in range(3):
            layers.append(Block(channels, filters, 2 if stage > 0 and block == 0 else 1))
            channels = filters
    layers += [nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=12800)
    args, (x, y, tx, ty) = prepare(p, batch_size=64)
    data = (x[:args.samples].unsqueeze(1), y[:args.samples], tx.unsqueeze(1), ty)
    report(args, resnet20(), data, workload="resnet")

if __name__ == "__main__":
    main()
