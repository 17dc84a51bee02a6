/// A layer that can tell its output shape, or why an input shape does not fit it, without running.
/// `Model.validate()` uses it to reject a configuration when the model is built, naming the layer,
/// the input shape and the rule; layers without it are validated by a dry run.
public protocol ShapeInferring {
    /// The shape of one output sample for one input sample of `input` (batch axis excluded).
    func outputShape(for input: Shape) throws -> Shape
}

extension Padding {
    /// Output extent along one axis, or an error stating (N − F + 2P)/S + 1.
    func outputExtent(_ size: Int, window: Int, stride: Int, axis: Int, layer: String, input: Shape) throws -> Int {
        guard let resolved = resolve(size: size, window: window, stride: stride, axis: axis) else {
            throw BackpropError.layerDoesNotFit(
                layer: layer, inputShape: "\(input)",
                rule: "output size = (N − F + 2P)/S + 1 needs N + 2P ≥ F, but N = \(size), F = \(window), padding \(self)")
        }
        return resolved.output
    }
}

extension Dense: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape {
        guard input.last == inputSize else {
            throw BackpropError.layerDoesNotFit(
                layer: "Dense(\(inputSize) → \(outputSize))", inputShape: "\(input)",
                rule: "the last axis must have \(inputSize) features")
        }
        return Shape(input.dimensions.dropLast() + [outputSize])
    }
}

extension Conv2D: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape {
        let name = "Conv2D(\(inputChannels) → \(outputChannels), \(kernelSize.0)×\(kernelSize.1), stride \(strides))"
        guard input.rank == 3, input[2] == inputChannels else {
            throw BackpropError.layerDoesNotFit(layer: name, inputShape: "\(input)", rule: "input must be [H, W, \(inputChannels)]")
        }
        let h = try padding.outputExtent(
            input[0], window: dilation.0 * (kernelSize.0 - 1) + 1, stride: strides.0, axis: 0, layer: name, input: input)
        let w = try padding.outputExtent(
            input[1], window: dilation.1 * (kernelSize.1 - 1) + 1, stride: strides.1, axis: 1, layer: name, input: input)
        return [h, w, outputChannels]
    }
}

extension MaxPool2D: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape {
        try poolOutputShape("MaxPool2D(\(size.0)×\(size.1))", input, size, strides, padding)
    }
}

extension AvgPool2D: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape {
        try poolOutputShape("AvgPool2D(\(size.0)×\(size.1))", input, size, strides, padding)
    }
}

private func poolOutputShape(_ name: String, _ input: Shape, _ size: (Int, Int), _ strides: (Int, Int), _ padding: Padding) throws -> Shape
{
    guard input.rank == 3 else { throw BackpropError.layerDoesNotFit(layer: name, inputShape: "\(input)", rule: "input must be [H, W, C]") }
    let h = try padding.outputExtent(input[0], window: size.0, stride: strides.0, axis: 0, layer: name, input: input)
    let w = try padding.outputExtent(input[1], window: size.1, stride: strides.1, axis: 1, layer: name, input: input)
    return [h, w, input[2]]
}

extension Flatten: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape { [input.elementCount] }
}

extension Reshape: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape {
        let known = targetShape.filter { $0 != -1 }.reduce(1, *)
        let fits = targetShape.contains(-1) ? known > 0 && input.elementCount % known == 0 : known == input.elementCount
        guard fits else {
            throw BackpropError.layerDoesNotFit(
                layer: "Reshape(\(targetShape))", inputShape: "\(input)",
                rule: "the number of elements (\(input.elementCount)) must be kept")
        }
        return Shape(targetShape.map { $0 == -1 ? input.elementCount / known : $0 })
    }
}

extension BatchNorm: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape {
        guard input.last == gamma.elementCount else {
            throw BackpropError.layerDoesNotFit(
                layer: "BatchNorm(\(gamma.elementCount))", inputShape: "\(input)",
                rule: "the last axis must have \(gamma.elementCount) channels")
        }
        return input
    }
}

extension LocallyConnected2D: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape {
        guard input == inputShape else {
            throw BackpropError.layerDoesNotFit(
                layer: "LocallyConnected2D", inputShape: "\(input)",
                rule: "unshared weights were made for inputs of shape \(inputShape)")
        }
        return [outputSize.0, outputSize.1, weight.shape[2]]
    }
}

extension Model {
    /// Checks every layer against the shape it receives, from `inputShape` on, and returns each
    /// layer's output shape (batch axis excluded).
    ///
    /// - Throws: ``BackpropError/layerDoesNotFit(layer:inputShape:rule:)`` naming the first layer
    ///   that cannot take its input.
    @discardableResult
    public func validate() throws -> [Shape] {
        try chainShapes((network as? Sequential)?.layers ?? [network], from: inputShape)
    }
}

/// Each layer's output shape as `layers` run in turn from `input` (by their own rules, or a dry
/// run); errors name the layer's index.
func chainShapes(_ layers: [any Layer], from input: Shape) throws -> [Shape] {
    var shape = input
    return try layers.enumerated().map { index, layer in
        do {
            shape = try sampleOutputShape(of: layer, for: shape)
            return shape
        } catch BackpropError.layerDoesNotFit(let name, let input, let rule) {
            throw BackpropError.layerDoesNotFit(layer: "layer \(index) (\(name))", inputShape: input, rule: rule)
        }
    }
}

extension Sequential: ShapeInferring {
    /// Each layer in turn (by its own rule, or a dry run); errors name the layer's index.
    public func outputShape(for input: Shape) throws -> Shape { try chainShapes(layers, from: input).last ?? input }
}

extension Residual: ShapeInferring {
    /// Both branches from the same input; they must end in one shape.
    public func outputShape(for input: Shape) throws -> Shape {
        func branch(_ name: String, _ layers: Sequential?) throws -> Shape {
            guard let layers else { return input }
            do {
                return try layers.outputShape(for: input)
            } catch BackpropError.layerDoesNotFit(let layer, let shape, let rule) {
                throw BackpropError.layerDoesNotFit(layer: "Residual \(name), \(layer)", inputShape: shape, rule: rule)
            }
        }
        let body = try branch("body", self.body)
        let skip = try branch("shortcut", shortcut)
        guard body == skip else {
            throw BackpropError.layerDoesNotFit(
                layer: "Residual", inputShape: "\(input)",
                rule: "the body gives \(body) but the shortcut \(skip); add a projection shortcut")
        }
        return body
    }
}
