// Reductions over any set of axes. Axes may be negative (-1 is the last); `keepingAxes` keeps
// reduced axes with extent 1 so the result broadcasts against the input.

extension Tensor {
    private func reducedShapes(_ axes: [Int]?, keepingAxes: Bool, _ name: String) -> (kept: Shape, result: Shape) {
        let resolved = Set((axes ?? Array(0..<rank)).map { shape.normalizedAxis($0, operation: name) })
        var kept = shape
        for axis in resolved { kept[axis] = 1 }
        let result = keepingAxes ? kept : Shape(kept.dimensions.enumerated().filter { !resolved.contains($0.offset) }.map(\.element))
        return (kept, result)
    }

    /// Sum over `axes` (all axes when nil).
    public func sum(alongAxes axes: [Int]? = nil, keepingAxes: Bool = false) -> Tensor {
        let (kept, resultShape) = reducedShapes(axes, keepingAxes: keepingAxes, "sum")
        let backend = Backends.current
        let result = Tensor(uninitializedShape: resultShape)
        backend.fill(result.storage, value: 0, count: result.elementCount)
        backend.copy(
            shape: shape.dimensions, from: storage, offset: 0, strides: shape.strides,
            into: result.storage, offset: 0, strides: kept.broadcastStrides(to: shape), accumulate: true)
        return Tensor.record("sum", result, inputs: [self]) { [shape] gradient, sink in
            guard let (target, accumulate) = sink.target(0) else { return }
            backend.copy(
                shape: shape.dimensions, from: gradient.storage, offset: 0, strides: kept.broadcastStrides(to: shape),
                into: target.storage, offset: 0, strides: shape.strides, accumulate: accumulate)
        }
    }

    /// Sum over one axis.
    public func sum(alongAxis axis: Int, keepingAxis: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingAxes: keepingAxis)
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(alongAxes axes: [Int]? = nil, keepingAxes: Bool = false) -> Tensor {
        let total = sum(alongAxes: axes, keepingAxes: keepingAxes)
        let count = Swift.max(1, elementCount / Swift.max(1, total.elementCount))
        return total * (1 / Float(count))
    }

    /// Mean over one axis.
    public func mean(alongAxis axis: Int, keepingAxis: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingAxes: keepingAxis)
    }

    /// Maximum over `axes` (all axes when nil). The gradient is shared equally among tied maxima.
    public func max(alongAxes axes: [Int]? = nil, keepingAxes: Bool = false) -> Tensor {
        precondition(elementCount > 0, "max: empty tensor of shape \(shape)")
        let (kept, resultShape) = reducedShapes(axes, keepingAxes: keepingAxes, "max")
        let backend = Backends.current
        let result = Tensor(uninitializedShape: resultShape)
        backend.fill(result.storage, value: -.infinity, count: result.elementCount)
        backend.maxReduce(shape: shape.dimensions, from: storage, into: result.storage, strides: kept.broadcastStrides(to: shape))
        return Tensor.record("max", result, inputs: [self]) { [self] gradient, sink in
            let keptResult = Tensor(shape: kept, storage: result.storage)
            let isMax = Tensor.broadcasting(.equal, self, keptResult, "max")
            let ties = isMax.sum(alongAxes: axes, keepingAxes: true)
            let share = Tensor.broadcasting(.divide, Tensor(shape: kept, storage: gradient.storage), ties, "max")
            sink.add(0, Tensor.broadcasting(.multiply, isMax, share, "max"))
        }
    }

    /// Maximum over one axis.
    public func max(alongAxis axis: Int, keepingAxis: Bool = false) -> Tensor {
        max(alongAxes: [axis], keepingAxes: keepingAxis)
    }

    /// Indices of the maxima along `axis`, as Float values (not differentiable).
    public func argmax(alongAxis axis: Int = -1) -> Tensor {
        let axis = shape.normalizedAxis(axis, operation: "argmax")
        precondition(shape[axis] > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        let outer = shape.dimensions[..<axis].reduce(1, *)
        let inner = shape.dimensions[(axis + 1)...].reduce(1, *)
        var resultShape = shape.dimensions
        resultShape.remove(at: axis)
        let result = Tensor(uninitializedShape: Shape(resultShape))
        Backends.current.argmax(outer: outer, axis: shape[axis], inner: inner, storage, into: result.storage)
        return result
    }
}
