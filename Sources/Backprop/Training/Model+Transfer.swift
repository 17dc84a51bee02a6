/// Transfer learning (the course's slide: reuse the pretrained layers, retrain the dense head, then
/// fine-tune everything at a lower rate): freezing layers, a new head, and unfreezing later.
extension Model {
    /// The layers of the network in order (a `Sequential`'s layers, a graph's nodes, or the network itself).
    public var layers: [any Layer] { (network as? Sequential)?.layers ?? (network as? Graph)?.layers ?? [network] }

    /// The parameters of layer `index` (its path prefix is `layers.<index>.`).
    public func parameters(ofLayer index: Int) -> [Parameter] {
        guard network is Sequential || network is Graph else { return index == 0 ? network.parameters : [] }
        return namedParameters.filter { $0.name.hasPrefix("layers.\(index).") }.map(\.parameter)
    }

    /// Freezes (or unfreezes) the trainable parameters of the given layers; frozen batch norm
    /// normalizes with its running statistics and keeps them. Returns the parameters changed.
    @discardableResult
    public func setTrainable(_ trainable: Bool, layers indices: some Sequence<Int>) -> [Parameter] {
        var changed: [Parameter] = []
        for index in indices {
            for parameter in parameters(ofLayer: index) where Self.isWeight(parameter, in: layers[index]) {
                if parameter.isTrainable != trainable { changed.append(parameter) }
                parameter.isTrainable = trainable
            }
        }
        return changed
    }

    /// Freezes layers 0 through `last`. Returns the parameters frozen.
    @discardableResult
    public func freeze(upTo last: Int) -> [Parameter] { setTrainable(false, layers: 0...min(last, layers.count - 1)) }

    /// Whether `parameter` is a weight an optimizer may train (not a statistic such as a running mean).
    private static func isWeight(_ parameter: Parameter, in layer: any Layer) -> Bool {
        switch layer {
        case let norm as BatchNorm: return parameter === norm.gamma || parameter === norm.beta
        case is Normalization: return false
        default: return true
        }
    }

    /// A new model for `outputs` classes: this architecture with its last dense layer (the head)
    /// replaced by a fresh one, holding this model's weights everywhere else. Returns it with the
    /// head's index in ``layers`` (for a network that is one graph: its output node, which must
    /// be dense).
    ///
    /// - Throws: ``BackpropError`` when the architecture has no dense layer (or the graph's one
    ///   output is not one).
    public func transferred(toOutputs outputs: Int) throws -> (model: Model, head: Int) {
        guard let architecture else {
            preconditionFailure("Model.transferred: the model was not built from an Architecture")
        }
        let chain = architecture.chain
        let head: Int?
        if let graph = architecture.soleGraph {
            head = graph.outputs.count == 1 ? graph.nodes.firstIndex { $0.name == graph.outputs[0] } : nil
        } else {
            head = chain.lastIndex { if case .dense = $0 { true } else { false } }
        }
        guard let head, case .dense(_, let activation, let regularizer, let weights) = chain[head] else {
            throw BackpropError.invalidArgument(
                name: "architecture",
                expected: architecture.soleGraph == nil
                    ? "a dense layer to replace as the head" : "a graph whose one output is a dense node",
                found: "none")
        }
        var changed = architecture
        let newHead = LayerSpec.dense(units: outputs, activation: activation, regularizer: regularizer, weights: weights)
        if var graph = architecture.soleGraph {
            graph.nodes[head].layer = newHead
            changed.layers[0] = .graph(graph)
        } else {
            changed.layers[head] = newHead
        }
        let model = try changed.makeModel()
        let kept = stateDict().filter { !$0.name.hasPrefix("layers.\(head).") }
        try model.load(Dictionary(kept, uniquingKeysWith: { first, _ in first }), strict: false, source: "the base model")
        return (model, head)
    }
}

/// Unfreezes parameters once `epochs` epochs have passed, training them from then on at
/// `learningRateScale` × the learning rate (fine-tuning after the head has been trained).
public final class Unfreeze: Callback {
    public let epochs: Int
    public let parameters: [Parameter]
    public let learningRateScale: Float

    public init(after epochs: Int, parameters: [Parameter], learningRateScale: Float = 0.1) {
        precondition(epochs >= 0 && learningRateScale > 0, "Unfreeze: epochs ≥ 0 and a positive scale required")
        self.epochs = epochs
        self.parameters = parameters
        self.learningRateScale = learningRateScale
    }

    public func epochWillBegin(_ epoch: Int, _ state: TrainingState) {
        guard epoch > epochs, parameters.contains(where: { !$0.isTrainable }) else { return }
        for parameter in parameters { parameter.isTrainable = true }
        state.optimizer.setOptions(for: parameters, learningRateScale: learningRateScale)
        state.log("Epoch \(epoch): unfroze \(parameters.count) parameter tensors, trained at \(learningRateScale) × the learning rate")
    }
}
