// Activation functions. Each is one fused elementwise primitive (forward and derivative in one
// pass over memory, numerically stable forms) rather than a chain of exp/divide ops: the chain
// made four passes and overflowed for large |x|.

extension Tensor {
    /// max(x, 0).
    public func relu() -> Tensor { applying(.relu, "relu") }
    /// x for x > 0, `slope`·x otherwise.
    public func leakyRelu(slope: Float = 0.01) -> Tensor { applying(.leakyRelu(slope: slope), "leakyRelu") }
    /// x for x > 0, α(eˣ − 1) otherwise (Clevert et al. 2016).
    public func elu(alpha: Float = 1) -> Tensor { applying(.elu(alpha: alpha), "elu") }
    /// 1 / (1 + e⁻ˣ).
    public func sigmoid() -> Tensor { applying(.sigmoid, "sigmoid") }
    /// Hyperbolic tangent.
    public func tanh() -> Tensor { applying(.tanh, "tanh") }
    /// log(1 + eˣ), computed stably for any finite x.
    public func softplus() -> Tensor { applying(.softplus, "softplus") }

    /// log(softmax(x)) along the last axis, computed as x − max − log Σ exp(x − max): finite for
    /// logits of ±1e4.
    public func logSoftmax() -> Tensor {
        precondition(rank >= 1 && shape[rank - 1] > 0, "logSoftmax: needs a non-empty last axis, got \(shape)")
        let classes = shape[rank - 1]
        let rows = elementCount / classes
        let backend = Backends.current
        let result = Tensor(uninitializedShape: shape)
        backend.logSoftmax(rows: rows, classes: classes, storage, into: result.storage)
        return Tensor.record("logSoftmax", result, inputs: [self]) { gradient, sink in
            guard let (target, accumulate) = sink.target(0) else { return }
            backend.logSoftmaxBackward(
                rows: rows, classes: classes, y: result.storage, dy: gradient.storage, into: target.storage,
                accumulate: accumulate)
        }
    }

    /// softmax(x) along the last axis: exp(logSoftmax(x)).
    public func softmax() -> Tensor { logSoftmax().exp() }

    /// Maxout (Goodfellow et al. 2013): the last axis, of extent units·pieces, is split into groups
    /// of `pieces` consecutive values and each group is replaced by its maximum.
    public func maxout(pieces: Int) -> Tensor {
        precondition(
            pieces > 0 && shape.last.map { $0 % pieces == 0 } == true,
            "maxout: last axis of \(shape) is not divisible into \(pieces) pieces")
        var grouped = shape.dimensions
        grouped[rank - 1] /= pieces
        grouped.append(pieces)
        return reshaped(grouped).max(alongAxis: -1)
    }
}
