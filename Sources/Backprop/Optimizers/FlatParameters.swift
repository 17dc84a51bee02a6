/// All trainable parameters of a model laid out in one contiguous buffer, with their gradients in
/// a second buffer of the same layout.
///
/// An optimizer then updates every parameter in one vectorized pass, and data-parallel training
/// sums all gradients with a single allreduce over ``gradients``.
public final class FlatParameters {
    /// The parameters, in layout order.
    public let parameters: [Parameter]
    /// Offset of each parameter in the flat buffers.
    public let offsets: [Int]
    /// Total number of scalars.
    public let count: Int
    /// Every parameter's value.
    public let values: TensorStorage
    /// Every parameter's gradient. Gradients no backward pass reached since the last
    /// `zeroGradients()` are stale here until ``materializeGradients()`` (which `step()` calls).
    public let gradients: TensorStorage

    /// Moves `parameters` into fresh flat buffers, keeping their values.
    public init(_ parameters: [Parameter]) {
        self.parameters = parameters
        var offsets: [Int] = []
        var total = 0
        for parameter in parameters {
            offsets.append(total)
            // Each parameter starts on a 64-byte boundary, so kernels see aligned rows.
            total += (parameter.elementCount + 15) / 16 * 16
        }
        self.offsets = offsets
        self.count = total
        values = TensorStorage(uninitializedCount: max(total, 1))
        gradients = TensorStorage(uninitializedCount: max(total, 1))
        let backend = Backends.current
        backend.fill(values, value: 0, count: total)
        backend.fill(gradients, value: 0, count: total)
        for (parameter, offset) in zip(parameters, offsets) {
            parameter.rebind(
                value: TensorStorage(viewing: values, offset: offset, count: parameter.elementCount),
                gradient: TensorStorage(viewing: gradients, offset: offset, count: parameter.elementCount))
        }
    }

    /// Marks every gradient as zero (no memory is written).
    public func zeroGradients() {
        for parameter in parameters { parameter.zeroGradient() }
    }

    /// Writes real zeros for gradients no backward pass reached, so the flat buffer is all valid.
    public func materializeGradients() {
        for parameter in parameters { parameter.accumulator.materializeZero() }
    }
}
