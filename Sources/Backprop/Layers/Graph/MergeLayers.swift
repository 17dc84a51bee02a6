/// A layer that combines several tensors into one: the joints of a ``Graph`` (`Add` for skip
/// connections, `Concatenate` for branches that meet). Applied to one tensor it returns it.
public protocol MergeLayer: Layer {
    /// Combines a batch of each input (all with the same batch size).
    func callAsFunction(_ inputs: [Tensor]) -> Tensor
    /// The shape of one output sample for inputs of `shapes` (batch axis excluded), or why they
    /// do not fit.
    func outputShape(merging shapes: [Shape]) throws -> Shape
}

extension MergeLayer {
    public func callAsFunction(_ input: Tensor) -> Tensor { self([input]) }
}

/// Element-wise sum of inputs of one shape: y = a + b + …
public final class Add: MergeLayer {
    public init() {}

    public func callAsFunction(_ inputs: [Tensor]) -> Tensor {
        precondition(!inputs.isEmpty, "Add: no inputs")
        return inputs.dropFirst().reduce(inputs[0]) { $0 + $1 }
    }

    public func outputShape(merging shapes: [Shape]) throws -> Shape { try sameShape(shapes, "Add", atLeast: 1) }
}

/// The difference of two inputs of one shape: y = a − b.
public final class Subtract: MergeLayer {
    public init() {}

    public func callAsFunction(_ inputs: [Tensor]) -> Tensor {
        precondition(inputs.count == 2, "Subtract: needs exactly two inputs, got \(inputs.count)")
        return inputs[0] - inputs[1]
    }

    public func outputShape(merging shapes: [Shape]) throws -> Shape {
        guard shapes.count == 2 else {
            throw BackpropError.layerDoesNotFit(
                layer: "Subtract", inputShape: shapes.map(\.description).joined(separator: ", "), rule: "it takes exactly two inputs")
        }
        return try sameShape(shapes, "Subtract", atLeast: 2)
    }
}

/// Element-wise product of inputs of one shape (gates, attention weights): y = a ⊙ b ⊙ …
public final class Multiply: MergeLayer {
    public init() {}

    public func callAsFunction(_ inputs: [Tensor]) -> Tensor {
        precondition(!inputs.isEmpty, "Multiply: no inputs")
        return inputs.dropFirst().reduce(inputs[0]) { $0 * $1 }
    }

    public func outputShape(merging shapes: [Shape]) throws -> Shape { try sameShape(shapes, "Multiply", atLeast: 1) }
}

/// Joins inputs along one axis of the sample (the last by default: channels of images, features
/// of vectors); the other extents must agree.
public final class Concatenate: MergeLayer {
    /// The axis of one sample (batch axis excluded); negative counts from the end.
    public let axis: Int

    public init(axis: Int = -1) { self.axis = axis }

    public func callAsFunction(_ inputs: [Tensor]) -> Tensor {
        precondition(!inputs.isEmpty, "Concatenate: no inputs")
        let rank = inputs[0].rank - 1
        let sampleAxis = axis < 0 ? axis + rank : axis
        precondition(sampleAxis >= 0 && sampleAxis < rank, "Concatenate: axis \(axis) is out of range for samples of rank \(rank)")
        return inputs.count == 1 ? inputs[0] : Tensor.concatenate(inputs, alongAxis: sampleAxis + 1)
    }

    public func outputShape(merging shapes: [Shape]) throws -> Shape {
        let described = shapes.map(\.description).joined(separator: ", ")
        guard let first = shapes.first else {
            throw BackpropError.layerDoesNotFit(layer: "Concatenate", inputShape: "nothing", rule: "it needs at least one input")
        }
        let resolved = axis < 0 ? axis + first.rank : axis
        guard resolved >= 0 && resolved < first.rank else {
            throw BackpropError.layerDoesNotFit(
                layer: "Concatenate(axis \(axis))", inputShape: described, rule: "the axis must exist in samples of rank \(first.rank)")
        }
        var joined = first
        for shape in shapes.dropFirst() {
            var a = shape
            var b = first
            guard a.rank == b.rank else {
                throw BackpropError.layerDoesNotFit(
                    layer: "Concatenate(axis \(axis))", inputShape: described, rule: "all inputs must have the same rank")
            }
            a[resolved] = 0
            b[resolved] = 0
            guard a == b else {
                throw BackpropError.layerDoesNotFit(
                    layer: "Concatenate(axis \(axis))", inputShape: described, rule: "the inputs must agree on every axis but \(axis)")
            }
            joined[resolved] += shape[resolved]
        }
        return joined
    }
}

/// The one shape every input shares (element-wise merges do not broadcast, as in Keras).
private func sameShape(_ shapes: [Shape], _ layer: String, atLeast minimum: Int) throws -> Shape {
    let described = shapes.map(\.description).joined(separator: ", ")
    guard shapes.count >= minimum, let first = shapes.first else {
        throw BackpropError.layerDoesNotFit(layer: layer, inputShape: described, rule: "it needs at least \(minimum) input(s)")
    }
    guard shapes.allSatisfy({ $0 == first }) else {
        throw BackpropError.layerDoesNotFit(layer: layer, inputShape: described, rule: "all inputs must have the same shape")
    }
    return first
}
