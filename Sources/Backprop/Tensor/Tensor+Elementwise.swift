// Elementwise operations. Each primitive computes its forward through the backend and records its
// pullback beside it. Binary operations broadcast like NumPy: shapes are aligned at the last axis,
// and an axis of extent 1 (or a missing leading axis) stretches to the other operand's extent.

extension Tensor {
    /// Applies a unary primitive and records its derivative (computed from the saved input and output).
    func applying(_ op: UnaryOperation, _ name: StaticString) -> Tensor {
        let backend = Backends.current
        let result = Tensor(uninitializedShape: shape)
        backend.unary(op, storage, into: result.storage, count: elementCount)
        return Tensor.record(name, result, inputs: [self]) { [self] gradient, sink in
            guard let (target, accumulate) = sink.target(0) else { return }
            backend.unaryBackward(
                op, x: storage, y: result.storage, dy: gradient.storage, into: target.storage,
                count: elementCount, accumulate: accumulate)
        }
    }

    /// Applies a broadcasting binary primitive without recording.
    static func broadcasting(_ op: BinaryOperation, _ a: Tensor, _ b: Tensor, _ name: StaticString) -> Tensor {
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("\(name): shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        let result = Tensor(uninitializedShape: shape)
        Backends.current.binary(
            op, shape: shape.dimensions, a.storage, strides: a.shape.broadcastStrides(to: shape), b.storage,
            strides: b.shape.broadcastStrides(to: shape), into: result.storage)
        return result
    }

    /// Element-wise sum with broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let result = broadcasting(.add, lhs, rhs, "add")
        return record("add", result, inputs: [lhs, rhs]) { gradient, sink in
            sink.add(0, gradient)
            sink.add(1, gradient)
        }
    }

    /// Element-wise difference with broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let result = broadcasting(.subtract, lhs, rhs, "subtract")
        return record("subtract", result, inputs: [lhs, rhs]) { gradient, sink in
            sink.add(0, gradient)
            if sink.needsGradient(1) { sink.add(1, -gradient) }
        }
    }

    /// Element-wise product with broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let result = broadcasting(.multiply, lhs, rhs, "multiply")
        return record("multiply", result, inputs: [lhs, rhs]) { gradient, sink in
            if sink.needsGradient(0) { sink.add(0, broadcasting(.multiply, gradient, rhs, "multiply")) }
            if sink.needsGradient(1) { sink.add(1, broadcasting(.multiply, gradient, lhs, "multiply")) }
        }
    }

    /// Element-wise quotient with broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let result = broadcasting(.divide, lhs, rhs, "divide")
        return record("divide", result, inputs: [lhs, rhs]) { gradient, sink in
            if sink.needsGradient(0) { sink.add(0, broadcasting(.divide, gradient, rhs, "divide")) }
            if sink.needsGradient(1) {
                // ∂(a/b)/∂b = -(a/b)/b
                let scaled = broadcasting(.multiply, gradient, result, "divide")
                sink.add(1, -broadcasting(.divide, scaled, rhs, "divide"))
            }
        }
    }

    /// Element-wise maximum with broadcasting; on ties the gradient goes to `a`.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { extremum(a, b, .maximum, "maximum") }

    /// Element-wise minimum with broadcasting; on ties the gradient goes to `a`.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { extremum(a, b, .minimum, "minimum") }

    private static func extremum(_ a: Tensor, _ b: Tensor, _ op: BinaryOperation, _ name: StaticString) -> Tensor {
        let result = broadcasting(op, a, b, name)
        return record(name, result, inputs: [a, b]) { gradient, sink in
            // b wins strictly where (for maximum) b > a; everywhere else a does.
            let bWins = op == .maximum ? broadcasting(.greater, b, a, name) : broadcasting(.greater, a, b, name)
            if sink.needsGradient(1) { sink.add(1, broadcasting(.multiply, gradient, bWins, name)) }
            if sink.needsGradient(0) {
                let aWins = bWins.applying(.affine(scale: -1, shift: 1), name)
                sink.add(0, broadcasting(.multiply, gradient, aWins, name))
            }
        }
    }

    /// `self` raised to `exponent` element-wise, with broadcasting.
    public func pow(_ exponent: Tensor) -> Tensor {
        let result = Tensor.broadcasting(.power, self, exponent, "pow")
        return Tensor.record("pow", result, inputs: [self, exponent]) { [self] gradient, sink in
            if sink.needsGradient(0) {
                let derivative = exponent * Tensor.broadcasting(.power, self, exponent - 1, "pow")
                sink.add(0, gradient * derivative)
            }
            if sink.needsGradient(1) { sink.add(1, gradient * result * self.log()) }
        }
    }

    // MARK: Scalars (recorded as affine maps, one pass each)

    public static prefix func - (x: Tensor) -> Tensor { x.applying(.negate, "negate") }
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.applying(.affine(scale: 1, shift: rhs), "add") }
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs + lhs }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + (-rhs) }
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { rhs.applying(.affine(scale: -1, shift: lhs), "subtract") }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.applying(.affine(scale: rhs, shift: 0), "multiply") }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }
    public static func / (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) / rhs }

    // MARK: Unary functions

    /// e^x element-wise.
    public func exp() -> Tensor { applying(.exp, "exp") }
    /// Natural logarithm element-wise.
    public func log() -> Tensor { applying(.log, "log") }
    /// Square root element-wise.
    public func squareRoot() -> Tensor { applying(.squareRoot, "squareRoot") }
    /// Absolute value element-wise (gradient 0 at 0).
    public func abs() -> Tensor { applying(.absolute, "abs") }
    /// x² element-wise.
    public func squared() -> Tensor { applying(.square, "square") }
    /// x^p element-wise for a scalar exponent.
    public func pow(_ exponent: Float) -> Tensor { applying(.power(exponent), "pow") }
    /// Limits every element to [lower, upper]; the gradient is 0 where the input is clipped.
    public func clamped(to range: ClosedRange<Float>) -> Tensor {
        applying(.clamp(lower: range.lowerBound, upper: range.upperBound), "clamp")
    }
}

extension GradientSink {
    /// Adds `gradient` (of the operation's broadcast output shape) to input `index`'s gradient,
    /// summing over the axes along which that input was broadcast.
    public mutating func add(_ index: Int, _ gradient: Tensor) {
        guard let node = inputs[index] else { return }
        // Broadcasting only stretches axes, so equal element counts mean the same layout.
        if gradient.elementCount == node.shape.elementCount {
            pass(index, gradient)
            return
        }
        guard let (target, accumulate) = target(index) else { return }
        let backend = Backends.current
        if !accumulate { backend.fill(target.storage, value: 0, count: target.elementCount) }
        backend.copy(
            shape: gradient.shape.dimensions, from: gradient.storage, offset: 0, strides: gradient.shape.strides,
            into: target.storage, offset: 0, strides: node.shape.broadcastStrides(to: gradient.shape), accumulate: true)
    }
}
