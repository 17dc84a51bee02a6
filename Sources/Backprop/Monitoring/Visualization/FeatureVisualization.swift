import Foundation

/// What activation maximization pushes up.
public enum VisualizationTarget: Sendable, Equatable {
    /// log p(class) of the model's output (its softmax).
    case classProbability(Int)
    /// The mean of one channel (last axis) of a layer's output, the layer named by its path.
    case channel(layer: String, index: Int)
    /// One value of a layer's output for one sample (flat index into the sample's output).
    case unit(layer: String, index: Int)
}

/// Looking inside a trained model: inputs that maximize a class or a unit, and which input values
/// a decision depends on (saliency, integrated gradients). Every method runs the model in
/// inference mode with its parameters held fixed, and differentiates with respect to the input.
public struct FeatureVisualization {
    public let model: Model

    /// Regularization of activation maximization (Olah et al. 2017; Yosinski et al. 2015).
    public struct Options: Sendable {
        /// Gradient-ascent steps.
        public var steps = 256
        /// Step size on the L∞-normalized gradient, in input units.
        public var learningRate: Float = 0.05
        /// Weight of the L2 penalty pulling the image to the middle of the range.
        public var l2: Float = 1e-3
        /// Random shift of up to this many pixels before each step.
        public var jitter = 1
        /// Steps between 3×3 Gaussian blurs of the image (0: never).
        public var blurEvery = 8
        /// The range the input values stay in (the training data's).
        public var range: ClosedRange<Float> = 0...1
        public var seed: UInt64 = 0
        public init() {}
    }

    public init(model: Model) { self.model = model }

    /// An input that maximizes `target`, from a gray start with a little noise.
    public func maximize(_ target: VisualizationTarget, options: Options = Options()) throws -> Tensor {
        let shape = model.inputShape
        var generator = RandomGenerator(seed: options.seed)
        let middle = (options.range.lowerBound + options.range.upperBound) / 2
        let spread = (options.range.upperBound - options.range.lowerBound) * 0.02
        var image = (0..<shape.elementCount).map { _ in middle + spread * generator.nextNormal() }
        let isImage = shape.rank == 3
        for step in 0..<options.steps {
            let (dy, dx) =
                isImage && options.jitter > 0
                ? (
                    Int(generator.next() % UInt64(2 * options.jitter + 1)) - options.jitter,
                    Int(generator.next() % UInt64(2 * options.jitter + 1)) - options.jitter
                )
                : (0, 0)
            let shifted = isImage ? Self.rolled(image, shape, dy, dx) : image
            var gradient = try inputGradient(of: target, at: Tensor(shifted, shape: Shape([1] + shape.dimensions)))
            if isImage { gradient = Self.rolled(gradient, shape, -dy, -dx) }
            let largest = gradient.map(abs).max() ?? 0
            let scale = largest > 0 ? options.learningRate / largest : 0
            for i in image.indices {
                image[i] += scale * gradient[i] - options.learningRate * options.l2 * (image[i] - middle)
                image[i] = min(max(image[i], options.range.lowerBound), options.range.upperBound)
            }
            if isImage && options.blurEvery > 0 && (step + 1) % options.blurEvery == 0 && step + 1 < options.steps {
                image = Self.blurred(image, shape)
            }
        }
        return Tensor(image, shape: shape)
    }

    /// |∂ log p(class) / ∂ input| per sample, the largest over channels: [N, H, W] for images,
    /// else [N, features].
    public func saliency(of inputs: Tensor, classes: [Int]) throws -> Tensor {
        let shape = model.inputShape
        var maps: [Float] = []
        for (index, k) in classes.enumerated() {
            let sample = inputs.slice([index..<(index + 1)] + shape.dimensions.map { 0..<$0 })
            let gradient = try inputGradient(of: .classProbability(k), at: sample)
            maps += Self.channelMaximum(gradient.map(abs), shape)
        }
        return Tensor(maps, shape: Shape([classes.count] + Self.mapShape(shape)))
    }

    /// Integrated gradients (Sundararajan et al. 2017) from a zero baseline over `steps` points:
    /// (x − x₀) · mean ∇ log p(class) along the path, summed over channels. The attributions of a
    /// sample add up to log p(x) − log p(x₀) (up to the path's discretization).
    public func integratedGradients(of inputs: Tensor, classes: [Int], steps: Int = 32) throws -> Tensor {
        let shape = model.inputShape
        var maps: [Float] = []
        for (index, k) in classes.enumerated() {
            let sample = inputs.slice([index..<(index + 1)] + shape.dimensions.map { 0..<$0 }).scalars
            var total = [Float](repeating: 0, count: sample.count)
            for step in 1...steps {
                let alpha = (Float(step) - 0.5) / Float(steps)
                let point = Tensor(sample.map { $0 * alpha }, shape: Shape([1] + shape.dimensions))
                let gradient = try inputGradient(of: .classProbability(k), at: point)
                for i in total.indices { total[i] += gradient[i] / Float(steps) }
            }
            let attribution = zip(sample, total).map { $0 * $1 }
            maps += Self.channelSum(attribution, shape)
        }
        return Tensor(maps, shape: Shape([classes.count] + Self.mapShape(shape)))
    }

    /// The model's probabilities for `inputs` [N, …].
    public func probabilities(_ inputs: Tensor) -> Tensor { withoutGradient { model.predict(inputs).softmax() } }

    /// ∂ target / ∂ input at `input` [1, …], flat.
    func inputGradient(of target: VisualizationTarget, at input: Tensor) throws -> [Float] {
        let parameters = model.network.parameters
        let trainable = parameters.map(\.isTrainable)
        for parameter in parameters { parameter.isTrainable = false }
        defer { for (parameter, flag) in zip(parameters, trainable) { parameter.isTrainable = flag } }
        let x = input.requiringGradient()
        let objective: Tensor = try withTrainingMode(false) {
            switch target {
            case .classProbability(let k):
                let logits = model.network(x)
                guard logits.rank == 2, k >= 0, k < logits.shape[1] else {
                    throw BackpropError.invalidArgument(
                        name: "class", expected: "an index below the model's \(logits.shape.dimensions.last ?? 0) outputs", found: "\(k)")
                }
                return logits.logSoftmax().slice([0..<1, k..<(k + 1)]).sum()
            case .channel(let path, let index), .unit(let path, let index):
                let (_, recorded) = LayerOutputRecording.recording { model.network(x) }
                let layers = Dictionary(
                    model.network.namedLayers.map { ($0.path, ObjectIdentifier($0.layer)) }, uniquingKeysWith: { a, _ in a })
                guard let id = layers[path], let output = recorded.last(where: { $0.0 == id })?.1 else {
                    // Outputs are recorded for the layers a Sequential or a Graph runs (not for those containers).
                    let recordable = model.network.namedLayers.compactMap { item -> (String, Int)? in
                        let count = (item.layer as? Sequential)?.layers.count ?? (item.layer as? Graph)?.layers.count
                        return count.map { (item.path, $0) }
                    }
                    .flatMap { path, count in (0..<count).map { path.isEmpty ? "layers.\($0)" : "\(path).layers.\($0)" } }
                    throw BackpropError.invalidArgument(
                        name: "layer",
                        expected:
                            "a layer path of the model (\(recordable.prefix(12).joined(separator: ", ")))",
                        found: path)
                }
                if case .channel = target {
                    guard let channels = output.shape.last, index >= 0, index < channels else {
                        throw BackpropError.invalidArgument(name: "channel", expected: "below \(output.shape.last ?? 0)", found: "\(index)")
                    }
                    let ranges = output.shape.dimensions.dropLast().map { 0..<$0 } + [index..<(index + 1)]
                    return output.slice(ranges).mean()
                }
                let flat = output.reshaped([1, -1])
                guard index >= 0, index < flat.shape[1] else {
                    throw BackpropError.invalidArgument(name: "unit", expected: "below \(flat.shape[1])", found: "\(index)")
                }
                return flat.slice([0..<1, index..<(index + 1)]).sum()
            }
        }
        objective.backward()
        return x.gradient?.scalars ?? [Float](repeating: 0, count: input.elementCount)
    }

    static func mapShape(_ shape: Shape) -> [Int] { shape.rank == 3 ? [shape[0], shape[1]] : shape.dimensions }

    static func channelMaximum(_ values: [Float], _ shape: Shape) -> [Float] {
        guard shape.rank == 3 else { return values }
        let c = shape[2]
        return stride(from: 0, to: values.count, by: c).map { values[$0..<($0 + c)].max() ?? 0 }
    }

    static func channelSum(_ values: [Float], _ shape: Shape) -> [Float] {
        guard shape.rank == 3 else { return values }
        let c = shape[2]
        return stride(from: 0, to: values.count, by: c).map { values[$0..<($0 + c)].reduce(0, +) }
    }

    /// The image shifted by (dy, dx) with wrap-around.
    static func rolled(_ values: [Float], _ shape: Shape, _ dy: Int, _ dx: Int) -> [Float] {
        let (h, w, c) = (shape[0], shape[1], shape[2])
        var result = values
        for y in 0..<h {
            for x in 0..<w {
                let source = (((y - dy) % h + h) % h * w + ((x - dx) % w + w) % w) * c
                for channel in 0..<c { result[(y * w + x) * c + channel] = values[source + channel] }
            }
        }
        return result
    }

    /// A 3×3 Gaussian blur (1-2-1 weights), edges clamped.
    static func blurred(_ values: [Float], _ shape: Shape) -> [Float] {
        let (h, w, c) = (shape[0], shape[1], shape[2])
        let weights: [Float] = [1, 2, 1]
        var result = values
        for y in 0..<h {
            for x in 0..<w {
                for channel in 0..<c {
                    var total: Float = 0
                    for i in -1...1 {
                        for j in -1...1 {
                            let yy = min(max(y + i, 0), h - 1)
                            let xx = min(max(x + j, 0), w - 1)
                            total += weights[i + 1] * weights[j + 1] * values[(yy * w + xx) * c + channel]
                        }
                    }
                    result[(y * w + x) * c + channel] = total / 16
                }
            }
        }
        return result
    }
}

extension FeatureVisualization {
    /// The mean of channel `channel` of layer `layer`'s output for `input` [H, W, C] (or [1, …]).
    public func channelMean(_ input: Tensor, layer: String, channel: Int) throws -> Float {
        let batch = input.rank == model.inputShape.rank ? input.reshaped(Shape([1] + model.inputShape.dimensions)) : input
        let (_, recorded) = withoutGradient { LayerOutputRecording.recording { withTrainingMode(false) { model.network(batch) } } }
        guard let id = model.network.namedLayers.first(where: { $0.path == layer }).map({ ObjectIdentifier($0.layer) }),
            let output = recorded.last(where: { $0.0 == id })?.1, let channels = output.shape.last, channel >= 0, channel < channels
        else {
            throw BackpropError.invalidArgument(name: "layer", expected: "a layer path with that channel", found: "\(layer)[\(channel)]")
        }
        let values = output.scalars
        return stride(from: channel, to: values.count, by: channels).reduce(Float(0)) { $0 + values[$1] } / Float(values.count / channels)
    }
}
