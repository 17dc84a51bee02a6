"""PyTorch's side of the interop tests (Tests/BackpropTests/Interop/PyTorchTests.swift).

  pytorch_check.py outputs EXPORT_DIR INPUTS.npy OUT.npy
      Builds Model() from EXPORT_DIR/model.py, loads EXPORT_DIR/model.safetensors with strict=True and
      writes its eval-mode outputs on INPUTS (float32, the Backprop model's input layout).
  pytorch_check.py train EXPORT_DIR INPUTS.npy OUT_PREFIX
      Loads the exported module, trains it a few SGD steps in PyTorch (weights and batch-norm statistics
      move), then saves its state_dict with safetensors.torch.save_file as f32, f16, bf16 and f64
      (OUT_PREFIX.<dtype>.safetensors) and, for each, the eval-mode outputs of a module loaded from that
      file (OUT_PREFIX.<dtype>.npy).
"""
import importlib.util
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file


def load_module(folder):
    spec = importlib.util.spec_from_file_location("exported_model", folder + "/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.Model()
    model.load_state_dict(load_file(folder + "/model.safetensors"), strict=True)
    return module, model


def run(model, x):
    """The module on Backprop's packed input: a model with several inputs (input_shapes) gets them
    split and reshaped; several outputs (a tuple) come back packed, as Backprop returns them."""
    shapes = getattr(model, "input_shapes", [])
    if len(shapes) > 1:
        parts, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(x[:, start:start + size].reshape(-1, *shape))
            start += size
        y = model(*parts)
    else:
        y = model(x)
    if isinstance(y, tuple):
        y = torch.cat([t.reshape(t.shape[0], -1) for t in y], dim=1)
    return y


def outputs(model, inputs):
    model.eval()
    with torch.no_grad():
        return run(model, torch.from_numpy(inputs)).numpy().astype(np.float32)


def main():
    torch.manual_seed(0)
    mode, folder, inputs_path = sys.argv[1:4]
    inputs = np.load(inputs_path).astype(np.float32)
    module, model = load_module(folder)
    if mode == "outputs":
        np.save(sys.argv[4], outputs(model, inputs))
        return
    prefix = sys.argv[4]
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = torch.from_numpy(inputs)
    for _ in range(5):
        optimizer.zero_grad()
        loss = run(model, x).square().mean()
        loss.backward()
        optimizer.step()
    state = model.state_dict()
    for name, dtype in [("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16), ("f64", torch.float64)]:
        converted = {k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in state.items()}
        save_file(converted, f"{prefix}.{name}.safetensors")
        reloaded = module.Model()
        reloaded.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in converted.items()}, strict=True)
        np.save(f"{prefix}.{name}.npy", outputs(reloaded, inputs))


if __name__ == "__main__":
    main()
