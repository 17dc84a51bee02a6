/// Several inputs and outputs: a ``Graph`` network takes a list of tensors and returns one per
/// output, each output with its own loss, weight and metrics (Keras' functional `Model`).
///
/// ```swift
/// let model = Model(graph: graph)                       // inputs "image", "size"; outputs "class", "area"
/// model.compile(optimizer: Adam(learningRate: 1e-3), losses: [.softmaxCrossEntropy, .meanSquaredError],
///               lossWeights: [1, 0.5], metrics: [[.accuracy], []])
/// model.fit([images, sizes], [labels, areas], epochs: 5)   // logs loss, class_loss, area_loss, class_accuracy
/// let (classes, areas) = model.predict([images, sizes]).pair
/// ```
///
/// Inside, each sample's inputs travel through the data pipeline packed into one row (flattened
/// and joined in order; ``Graph/pack(_:)``), and so do the targets, so shuffling, splits,
/// checkpoints and exact resume work unchanged; the graph unpacks them. A softmax cross-entropy
/// output takes integer class labels as its target; every other loss takes targets of its
/// output's shape.
extension Model {
    /// A model whose network is `graph`; its input shape is the graph's packed one.
    public convenience init(graph: Graph) {
        self.init(inputShape: graph.packedInputShape, graph)
    }

    /// The named inputs with their sample shapes: a graph network's, else one `"input"`.
    public var inputPorts: [Graph.Port] {
        if let graph = leadingGraph, graph.inputs.count > 1 { return graph.inputs }
        return [Graph.Port("input", inputShape)]
    }

    /// The named outputs with their sample shapes: a graph network's (its last layer's), else one `"output"`.
    public var outputPorts: [Graph.Port] {
        if let graph = trailingGraph, graph.outputs.count > 1 { return graph.outputs }
        return [Graph.Port("output", (try? validate().last) ?? inputShape)]
    }

    /// The graph that takes the network's input (after an optional normalization layer).
    var leadingGraph: Graph? {
        if let graph = network as? Graph { return graph }
        return (network as? Sequential)?.layers.first { !($0 is Normalization) } as? Graph
    }

    /// The graph whose outputs are the network's.
    var trailingGraph: Graph? { (network as? Graph) ?? ((network as? Sequential)?.layers.last as? Graph) }

    /// Chooses how to train a model with several outputs: one loss per output (in order), each
    /// weighted (1 by default) in the total; `metrics[i]` are reported for output i as
    /// `NAME_metric`, and each output's own loss as `NAME_loss`.
    public func compile(optimizer: Optimizer, losses: [any Loss], lossWeights: [Float] = [], metrics: [[any Metric]] = []) {
        let outputs = outputPorts
        precondition(
            losses.count == outputs.count,
            "compile: \(losses.count) losses for the model's \(outputs.count) outputs (\(outputs.map(\.name).joined(separator: ", ")))")
        precondition(
            lossWeights.isEmpty || lossWeights.count == outputs.count,
            "compile: \(lossWeights.count) loss weights for \(outputs.count) outputs")
        precondition(lossWeights.allSatisfy { $0.isFinite && $0 >= 0 }, "compile: loss weights must be finite and ≥ 0, got \(lossWeights)")
        precondition(metrics.count <= outputs.count, "compile: metrics for \(metrics.count) outputs, but the model has \(outputs.count)")
        let combined = OutputLosses(
            outputs: outputs, losses: losses, weights: lossWeights.isEmpty ? losses.map { _ in 1 } : lossWeights)
        var reported: [any Metric] = []
        if outputs.count > 1 {
            reported += outputs.indices.map { OutputMetric(output: $0, of: combined, measuring: LossMetric(losses[$0])) }
        }
        for (index, list) in metrics.enumerated() {
            reported += list.map { OutputMetric(output: index, of: combined, measuring: $0) }
        }
        compile(optimizer: optimizer, loss: combined, metrics: reported)
    }

    /// Trains on a list of inputs and one target tensor per output (see ``fit(_:_:batchSize:epochs:validationSplit:validationData:shuffle:seed:callbacks:verbose:)``).
    @discardableResult
    public func fit(
        _ inputs: [Tensor], _ targets: [Tensor], batchSize: Int = 32, epochs: Int = 1, validationSplit: Double = 0,
        validationData: (inputs: [Tensor], targets: [Tensor])? = nil, shuffle: Bool = true, seed: UInt64 = 0,
        callbacks: [any Callback] = [], verbose: Bool = true
    ) -> History {
        fit(
            packed(inputs: inputs, "fit"), packed(targets: targets, "fit"), batchSize: batchSize, epochs: epochs,
            validationSplit: validationSplit,
            validationData: validationData.map { (packed(inputs: $0.inputs, "fit"), packed(targets: $0.targets, "fit")) }, shuffle: shuffle,
            seed: seed, callbacks: callbacks, verbose: verbose)
    }

    /// Loss and metrics on a list of inputs and targets.
    public func evaluate(_ inputs: [Tensor], _ targets: [Tensor], batchSize: Int = 256) -> Logs {
        evaluate(packed(inputs: inputs, "evaluate"), packed(targets: targets, "evaluate"), batchSize: batchSize)
    }

    /// One tensor per output for a list of inputs.
    public func predict(_ inputs: [Tensor], batchSize: Int = 256) -> [Tensor] {
        Graph.unpack(predict(packed(inputs: inputs, "predict"), batchSize: batchSize), shapes: outputPorts.map(\.shape))
    }

    /// The outputs of one packed prediction, by name.
    public func outputs(of packed: Tensor) -> [String: Tensor] {
        let ports = outputPorts
        return Dictionary(uniqueKeysWithValues: zip(ports.map(\.name), Graph.unpack(packed, shapes: ports.map(\.shape))))
    }

    /// The inputs as the data pipeline carries them (one row per sample; see the extension's
    /// documentation): what a `TensorDataset` of a multi-input model holds.
    public func packed(inputs: [Tensor], _ operation: String = "packed(inputs:)") -> Tensor {
        let ports = inputPorts
        precondition(
            inputs.count == ports.count,
            "\(operation): \(inputs.count) inputs for the model's \(ports.count) (\(ports.map(\.name).joined(separator: ", ")))")
        for (tensor, port) in zip(inputs, ports) {
            precondition(
                tensor.rank >= 1 && Array(tensor.shape.dimensions.dropFirst()) == port.shape.dimensions
                    && tensor.shape[0] == inputs[0].shape[0],
                "\(operation): input \"\(port.name)\" must be [\(inputs[0].shape.first ?? 0)] + \(port.shape), got \(tensor.shape)")
        }
        return Graph.pack(inputs)
    }

    /// The targets as the data pipeline carries them, in the layout of the compiled losses.
    public func packed(targets: [Tensor], _ operation: String = "packed(targets:)") -> Tensor {
        guard let combined = loss as? OutputLosses else {
            precondition(targets.count == 1, "\(operation): \(targets.count) targets for a model compiled with one loss")
            return targets[0]
        }
        return combined.pack(targets, operation)
    }
}

/// The weighted sum of one loss per output, on packed predictions and targets.
struct OutputLosses: Loss {
    let outputs: [Graph.Port]
    let losses: [any Loss]
    let weights: [Float]

    var name: String { "loss" }

    /// Each output's target shape: class labels for softmax cross-entropy, else the output's.
    var targetShapes: [Shape] {
        zip(outputs, losses).map { output, loss in loss is SoftmaxCrossEntropy ? [] : output.shape }
    }

    /// Output `index`'s predictions and targets, cut from the packed rows (only that output's).
    func pair(_ index: Int, _ predictions: Tensor, _ targets: Tensor) -> (Tensor, Tensor) {
        let targetShapes = targetShapes
        let prediction = Graph.unpack(predictions, shapes: outputs.map(\.shape), at: index)
        let target = Graph.unpack(targets, shapes: targetShapes.map { $0.rank == 0 ? Shape([1]) : $0 }, at: index)
        // A class label's column of several outputs' targets becomes the [N] labels the loss takes.
        let labels = targetShapes[index].rank == 0 && outputs.count > 1
        return (prediction, labels ? target.reshaped([targets.shape[0]]) : target)
    }

    func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        let terms = losses.indices.map { index in
            let (prediction, target) = pair(index, predictions, targets)
            return losses[index](prediction, target) * weights[index]
        }
        return terms.dropFirst().reduce(terms[0], +)
    }

    /// The targets packed in the order and layout `pair` expects.
    func pack(_ targets: [Tensor], _ operation: String) -> Tensor {
        precondition(targets.count == outputs.count, "\(operation): \(targets.count) targets for \(outputs.count) outputs")
        for (index, (tensor, shape)) in zip(targets, targetShapes).enumerated() {
            precondition(
                tensor.rank >= 1 && tensor.shape[0] == targets[0].shape[0] && tensor.elementCount == tensor.shape[0] * shape.elementCount,
                "\(operation): the target of output \"\(outputs[index].name)\" must be [N] + \(shape)\(shape.rank == 0 ? " (integer class labels: a softmax cross-entropy output of a multi-output model takes labels, not one-hot rows)" : ""), got \(tensor.shape)"
            )
        }
        if targets.count == 1 { return targets[0] }
        return Tensor.concatenate(targets.map { $0.reshaped([$0.shape[0], -1]) }, alongAxis: 1)
    }
}

/// A loss reported as a metric (each output's own loss beside the weighted total).
struct LossMetric: Metric {
    let loss: any Loss
    init(_ loss: any Loss) { self.loss = loss }
    var name: String { "loss" }
    func value(predictions: Tensor, targets: Tensor) -> Double { Double(withoutGradient { loss(predictions, targets) }.item) }
}

/// A metric of one output of a multi-output model, named `OUTPUT_metric`.
struct OutputMetric: Metric {
    let output: Int
    let losses: OutputLosses
    let metric: any Metric

    init(output: Int, of losses: OutputLosses, measuring metric: any Metric) {
        self.output = output
        self.losses = losses
        self.metric = metric
    }

    var name: String { losses.outputs.count > 1 ? "\(losses.outputs[output].name)_\(metric.name)" : metric.name }

    func value(predictions: Tensor, targets: Tensor) -> Double {
        let (prediction, target) = losses.pair(output, predictions, targets)
        return metric.value(predictions: prediction, targets: target)
    }
}
