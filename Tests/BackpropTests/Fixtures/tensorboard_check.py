"""Reads a Backprop --logdir with TensorBoard's own event reader and prints what it found as JSON:
{run: {"scalars": {tag: [[step, value], ...]}, "histograms": {tag: [[step, count], ...]},
       "images": {tag: [[step, width, height], ...]}, "text": {tag: [text, ...]}}}.
Used by Tests/BackpropTests/Monitoring/TensorBoardTests.swift (scripts/test.sh installs tensorboard)."""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator

logdir = sys.argv[1]
result = {}
for run in ("train", "validation"):
    accumulator = event_accumulator.EventAccumulator(
        logdir + "/" + run, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0,
                                           event_accumulator.IMAGES: 0, event_accumulator.TENSORS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    found = {"scalars": {}, "histograms": {}, "images": {}, "text": {}}
    for tag in tags["scalars"]:
        found["scalars"][tag] = [[e.step, e.value] for e in accumulator.Scalars(tag)]
    for tag in tags["histograms"]:
        found["histograms"][tag] = [[e.step, e.histogram_value.num] for e in accumulator.Histograms(tag)]
    for tag in tags["images"]:
        found["images"][tag] = [[e.step, e.width, e.height] for e in accumulator.Images(tag)]
    for tag in tags["tensors"]:
        found["text"][tag] = [e.tensor_proto.string_val[0].decode("utf-8") for e in accumulator.Tensors(tag)]
    result[run] = found
print(json.dumps(result))
