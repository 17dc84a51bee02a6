extension Tensor {
    /// A tensor holding `scalars` in row-major order.
    ///
    /// ```swift
    /// let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
    /// ```
    public init(_ scalars: [Float], shape: Shape) {
        precondition(
            scalars.count == shape.elementCount,
            "Tensor: \(scalars.count) scalars do not fill shape \(shape) (\(shape.elementCount) elements)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { source in
            storage.pointer.update(from: source.baseAddress!, count: scalars.count)
        }
    }

    /// Bytes converted to floats and divided by `divisor` (e.g. 255 for pixels, giving exactly the
    /// values NumPy's `x / 255` gives), in one pass.
    public init(bytes: [UInt8], shape: Shape, dividedBy divisor: Float = 1) {
        precondition(bytes.count == shape.elementCount, "Tensor: \(bytes.count) bytes do not fill shape \(shape)")
        self.init(uninitializedShape: shape)
        let destination = storage.pointer
        bytes.withUnsafeBufferPointer { source in
            for i in 0..<source.count { destination[i] = Float(source[i]) / divisor }
        }
    }

    /// A 1-D tensor of `scalars`.
    public init(_ scalars: [Float]) { self.init(scalars, shape: [scalars.count]) }

    /// A rank-0 tensor holding `value`.
    public init(scalar value: Float) { self.init([value], shape: []) }

    /// A tensor with every element equal to `value`.
    public init(repeating value: Float, shape: Shape) {
        self.init(uninitializedShape: shape)
        Backends.current.fill(storage, value: value, count: shape.elementCount)
    }

    /// Zeros of the given shape.
    public static func zeros(_ shape: Shape) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// Ones of the given shape.
    public static func ones(_ shape: Shape) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// The values start, start + step, … below `end` (like `numpy.arange`).
    public static func range(from start: Float = 0, to end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "range: step must not be 0")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Float($0) * step })
    }

    /// Samples from N(mean, standardDeviation²), drawn from `generator`.
    public static func randomNormal(
        _ shape: Shape, mean: Float = 0, standardDeviation: Float = 1, generator: inout RandomGenerator
    ) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        Backends.current.fillRandom(
            result.storage, count: shape.elementCount, .normal(mean: mean, standardDeviation: standardDeviation), generator: &generator)
        return result
    }

    /// Samples from U[lower, upper), drawn from `generator`.
    public static func randomUniform(
        _ shape: Shape, lower: Float = 0, upper: Float = 1, generator: inout RandomGenerator
    ) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        Backends.current.fillRandom(result.storage, count: shape.elementCount, .uniform(lower: lower, upper: upper), generator: &generator)
        return result
    }

    /// Samples from N(mean, standardDeviation²), drawn from the global generator.
    public static func randomNormal(_ shape: Shape, mean: Float = 0, standardDeviation: Float = 1) -> Tensor {
        GlobalRandom.withGenerator { randomNormal(shape, mean: mean, standardDeviation: standardDeviation, generator: &$0) }
    }

    /// Samples from U[lower, upper), drawn from the global generator.
    public static func randomUniform(_ shape: Shape, lower: Float = 0, upper: Float = 1) -> Tensor {
        GlobalRandom.withGenerator { randomUniform(shape, lower: lower, upper: upper, generator: &$0) }
    }

    /// A copy with its own storage (detached from the tape).
    public func copy() -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        Backends.current.copy(storage, into: result.storage, count: elementCount)
        return result
    }
}
