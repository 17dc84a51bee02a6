// Operations that rearrange elements: reshape, permute, slice, gather and concatenate.

extension Tensor {
    /// The same elements with a new shape; one extent may be -1 and is inferred. No copy.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dimensions = newShape
        if let inferred = dimensions.firstIndex(of: -1) {
            let known = dimensions.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && elementCount % known == 0, "reshape: cannot reshape \(shape) to \(newShape)")
            dimensions[inferred] = elementCount / known
        }
        let target = Shape(dimensions)
        precondition(
            target.elementCount == elementCount,
            "reshape: cannot reshape \(shape) (\(elementCount) elements) to \(target) (\(target.elementCount) elements)")
        let result = Tensor(shape: target, storage: storage)
        return Tensor.record("reshape", result, inputs: [self]) { gradient, sink in
            sink.pass(0, gradient)
        }
    }

    /// The same elements with a new shape. No copy.
    public func reshaped(_ newShape: Shape) -> Tensor { reshaped(newShape.dimensions) }

    /// Collapses every axis after the first into one: [N, d1, d2, …] → [N, d1·d2·…].
    public func flattenedBatch() -> Tensor { reshaped([shape.first ?? 1, -1]) }

    /// Reorders the axes: result axis i is input axis `permutation[i]`.
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<rank), "permute: \(permutation) is not a permutation of the axes of \(shape)")
        let sourceStrides = shape.strides
        let resultShape = Shape(permutation.map { shape[$0] })
        let result = Tensor(uninitializedShape: resultShape)
        let backend = Backends.current
        backend.copy(
            shape: resultShape.dimensions, from: storage, offset: 0, strides: permutation.map { sourceStrides[$0] },
            into: result.storage, offset: 0, strides: resultShape.strides, accumulate: false)
        return Tensor.record("permute", result, inputs: [self]) { [shape] gradient, sink in
            guard let (target, accumulate) = sink.target(0) else { return }
            let targetStrides = shape.strides
            backend.copy(
                shape: resultShape.dimensions, from: gradient.storage, offset: 0, strides: resultShape.strides,
                into: target.storage, offset: 0, strides: permutation.map { targetStrides[$0] }, accumulate: accumulate)
        }
    }

    /// Swaps two axes (the last two by default: a matrix transpose).
    public func transposed(_ axis1: Int = -2, _ axis2: Int = -1) -> Tensor {
        let a = shape.normalizedAxis(axis1, operation: "transpose")
        let b = shape.normalizedAxis(axis2, operation: "transpose")
        var permutation = Array(0..<rank)
        permutation.swapAt(a, b)
        return permuted(permutation)
    }

    /// The sub-tensor selected by one range per leading axis (missing axes are taken whole).
    ///
    /// ```swift
    /// images.slice([0..<10])          // the first ten samples
    /// m.slice([0..<2, 1..<3])         // rows 0–1, columns 1–2
    /// ```
    public func slice(_ ranges: [Range<Int>]) -> Tensor {
        precondition(ranges.count <= rank, "slice: \(ranges.count) ranges for a tensor of shape \(shape)")
        var bounds = shape.dimensions.map { 0..<$0 }
        for (axis, range) in ranges.enumerated() {
            precondition(
                range.lowerBound >= 0 && range.upperBound <= shape[axis],
                "slice: range \(range) is out of bounds for axis \(axis) of shape \(shape)")
            bounds[axis] = range
        }
        let strides = shape.strides
        let offset = zip(bounds, strides).map { $0.lowerBound * $1 }.reduce(0, +)
        let resultShape = Shape(bounds.map(\.count))
        let result = Tensor(uninitializedShape: resultShape)
        let backend = Backends.current
        backend.copy(
            shape: resultShape.dimensions, from: storage, offset: offset, strides: strides,
            into: result.storage, offset: 0, strides: resultShape.strides, accumulate: false)
        return Tensor.record("slice", result, inputs: [self]) { [shape] gradient, sink in
            guard let (target, accumulate) = sink.target(0) else { return }
            if !accumulate { backend.fill(target.storage, value: 0, count: shape.elementCount) }
            backend.copy(
                shape: resultShape.dimensions, from: gradient.storage, offset: 0, strides: resultShape.strides,
                into: target.storage, offset: offset, strides: strides, accumulate: true)
        }
    }

    /// Surrounds the tensor with zeros: `padding[i]` = (before, after) for axis i (missing
    /// trailing axes are not padded).
    public func padded(_ padding: [(before: Int, after: Int)]) -> Tensor {
        precondition(
            padding.count <= rank && padding.allSatisfy { $0.before >= 0 && $0.after >= 0 },
            "pad: padding \(padding) does not fit shape \(shape)")
        var resultShape = shape
        var offset = 0
        let resultStrides: [Int]
        for (axis, amount) in padding.enumerated() { resultShape[axis] += amount.before + amount.after }
        resultStrides = resultShape.strides
        for (axis, amount) in padding.enumerated() { offset += amount.before * resultStrides[axis] }
        let backend = Backends.current
        let result = Tensor(uninitializedShape: resultShape)
        backend.fill(result.storage, value: 0, count: result.elementCount)
        backend.copy(
            shape: shape.dimensions, from: storage, offset: 0, strides: shape.strides,
            into: result.storage, offset: offset, strides: resultStrides, accumulate: false)
        return Tensor.record("pad", result, inputs: [self]) { [shape] gradient, sink in
            guard let (target, accumulate) = sink.target(0) else { return }
            backend.copy(
                shape: shape.dimensions, from: gradient.storage, offset: offset, strides: resultStrides,
                into: target.storage, offset: 0, strides: shape.strides, accumulate: accumulate)
        }
    }

    /// Selects entries along `axis` by index (like `torch.index_select`); indices may repeat.
    public func gathering(_ indices: [Int], alongAxis axis: Int = 0) -> Tensor {
        let axis = shape.normalizedAxis(axis, operation: "gather")
        let extent = shape[axis]
        for index in indices where index < 0 || index >= extent {
            preconditionFailure("gather: index \(index) is out of range 0..<\(extent) for axis \(axis) of shape \(shape)")
        }
        let outer = shape.dimensions[..<axis].reduce(1, *)
        let inner = shape.dimensions[(axis + 1)...].reduce(1, *)
        var resultShape = shape
        resultShape[axis] = indices.count
        let result = Tensor(uninitializedShape: resultShape)
        let backend = Backends.current
        backend.gather(outer: outer, axis: extent, inner: inner, storage, indices: indices, into: result.storage)
        return Tensor.record("gather", result, inputs: [self]) { gradient, sink in
            guard let (target, accumulate) = sink.target(0) else { return }
            backend.scatterAdd(
                outer: outer, axis: extent, inner: inner, gradient.storage, indices: indices, into: target.storage,
                accumulate: accumulate)
        }
    }

    /// Joins tensors along `axis`; all other extents must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors given")
        let first = tensors[0].shape
        let axis = first.normalizedAxis(axis, operation: "concatenate")
        for tensor in tensors {
            var a = tensor.shape
            var b = first
            precondition(a.rank == b.rank, "concatenate: shapes \(first) and \(tensor.shape) differ in rank")
            a[axis] = 0
            b[axis] = 0
            precondition(a == b, "concatenate: shapes \(first) and \(tensor.shape) differ outside axis \(axis)")
        }
        var resultShape = first
        resultShape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)
        let result = Tensor(uninitializedShape: resultShape)
        let backend = Backends.current
        let resultStrides = resultShape.strides
        var offsets: [Int] = []
        var start = 0
        for tensor in tensors {
            offsets.append(start * resultStrides[axis])
            backend.copy(
                shape: tensor.shape.dimensions, from: tensor.storage, offset: 0, strides: tensor.shape.strides,
                into: result.storage, offset: start * resultStrides[axis], strides: resultStrides, accumulate: false)
            start += tensor.shape[axis]
        }
        return record("concatenate", result, inputs: tensors) { gradient, sink in
            for (index, tensor) in tensors.enumerated() {
                guard let (target, accumulate) = sink.target(index) else { continue }
                backend.copy(
                    shape: tensor.shape.dimensions, from: gradient.storage, offset: offsets[index], strides: resultStrides,
                    into: target.storage, offset: 0, strides: tensor.shape.strides, accumulate: accumulate)
            }
        }
    }
}
