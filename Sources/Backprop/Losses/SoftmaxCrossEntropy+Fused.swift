/// Mean softmax cross-entropy of `logits` [N, C] against integer `labels` [N].
///
/// Fused into one kernel (forward: max, log-sum-exp and the label's logit in one pass per row;
/// backward: softmax − onehot): the composite −gather(logSoftmax) made five passes and two
/// allocations per step, and this is the one op every classifier runs.
public func softmaxCrossEntropy(logits: Tensor, labels: Tensor) -> Tensor {
    precondition(logits.rank == 2, "softmaxCrossEntropy: logits must be [N, C], got \(logits.shape)")
    let rows = logits.shape[0]
    let classes = logits.shape[1]
    precondition(
        labels.elementCount == rows,
        "softmaxCrossEntropy: \(labels.elementCount) labels (shape \(labels.shape)) for \(rows) rows of logits \(logits.shape)")
    let backend = Backends.current
    let probabilities = Tensor(uninitializedShape: logits.shape)
    let loss = Tensor(uninitializedShape: [])
    if let badRow = backend.softmaxCrossEntropy(
        rows: rows, classes: classes, logits: logits.storage, labels: labels.storage,
        probabilities: probabilities.storage, loss: loss.storage)
    {
        preconditionFailure(
            "softmaxCrossEntropy: label \(labels.storage.pointer[badRow]) in row \(badRow) is not a class index in 0..<\(classes)")
    }
    return Tensor.record("softmaxCrossEntropy", loss, inputs: [logits, labels]) { gradient, sink in
        guard let (target, accumulate) = sink.target(0) else { return }
        backend.softmaxCrossEntropyBackward(
            rows: rows, classes: classes, probabilities: probabilities.storage, labels: labels.storage,
            scale: gradient.item / Float(max(rows, 1)), into: target.storage, accumulate: accumulate)
    }
}
