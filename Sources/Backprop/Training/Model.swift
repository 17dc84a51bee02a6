/// A network with a fixed per-sample input shape, trained Keras-style.
///
/// ```swift
/// seedGlobalRandom(42)
/// let model = Model(inputShape: [28, 28, 1]) {
///     Flatten()
///     Dense(784, 512, activation: .relu)
///     Dense(512, 10)
/// }
/// model.compile(optimizer: Adam(learningRate: 1e-3), loss: .softmaxCrossEntropy, metrics: [.accuracy])
/// let history = model.fit(trainImages, trainLabels, batchSize: 128, epochs: 10, validationSplit: 0.1)
/// let test = model.evaluate(testImages, testLabels)   // test["accuracy"]
/// ```
public final class Model {
    /// The layers.
    public let network: any Layer
    /// Shape of one sample (without the batch axis).
    public let inputShape: Shape
    /// The description the model was built from (``Architecture/makeModel()``), which model
    /// files store; nil for a model built from layers directly.
    public internal(set) var architecture: Architecture?
    /// Set by ``compile(optimizer:loss:metrics:)``.
    public private(set) var optimizer: Optimizer?
    /// Set by ``compile(optimizer:loss:metrics:)``.
    public private(set) var loss: (any Loss)?
    /// Set by ``compile(optimizer:loss:metrics:)``.
    public private(set) var metrics: [any Metric] = []
    /// Every layer by identity, with its path (the network never changes, so one walk serves).
    lazy var layerPaths: [ObjectIdentifier: (String, any Layer)] = Dictionary(
        network.namedLayers.map { (ObjectIdentifier($0.layer), ($0.path, $0.layer)) }, uniquingKeysWith: { first, _ in first })

    public init(inputShape: Shape, _ network: any Layer) {
        self.inputShape = inputShape
        self.network = network
    }

    public convenience init(inputShape: Shape, @LayerBuilder _ layers: () -> [any Layer]) {
        self.init(inputShape: inputShape, Sequential(layers()))
    }

    /// Applies the network to a batch [N, inputShape…].
    public func callAsFunction(_ input: Tensor) -> Tensor { network(input) }

    /// Every parameter with its path.
    public var namedParameters: [(name: String, parameter: Parameter)] { network.namedParameters }

    /// Chooses how to train: binds the optimizer to the trainable parameters (moving them into
    /// flat buffers) and sets the loss and the metrics reported during `fit` and `evaluate`.
    /// The layer shapes are checked first (``validate()``): a layer that cannot take its input stops
    /// here, naming the layer, the shape and the rule, rather than in the middle of training.
    public func compile(optimizer: Optimizer, loss: any Loss, metrics: [any Metric] = []) {
        do {
            try validate()
        } catch {
            preconditionFailure("compile: \(error)")
        }
        optimizer.bind(network.parameters)
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
    }

    /// Trains for `epochs` passes over (x, y) in minibatches.
    ///
    /// - Parameters:
    ///   - x: inputs [N, inputShape…].
    ///   - y: targets [N] (class labels) or [N, …].
    ///   - batchSize: samples per step; the last batch of an epoch may be smaller.
    ///   - validationSplit: fraction of the samples, taken from the end before shuffling (as in
    ///     Keras), held out and evaluated after each epoch.
    ///   - validationData: explicit validation inputs and targets (overrides the split).
    ///   - shuffle: draw a new sample order every epoch.
    ///   - seed: fixes the shuffling order.
    ///   - callbacks: hooks run during training, after the built-in progress display.
    ///   - verbose: show the Keras-style progress line and the callbacks' messages.
    /// - Returns: per-epoch training and validation figures. (To resume from a checkpoint, use the
    ///   loader form with a `TensorDataset`.)
    @discardableResult
    public func fit(
        _ x: Tensor, _ y: Tensor, batchSize: Int = 32, epochs: Int = 1, validationSplit: Double = 0,
        validationData: (x: Tensor, y: Tensor)? = nil, shuffle: Bool = true, seed: UInt64 = 0,
        callbacks: [any Callback] = [], verbose: Bool = true
    ) -> History {
        precondition(optimizer != nil && loss != nil, "fit: call compile(optimizer:loss:metrics:) first")
        checkBatch(x, y, "fit")
        precondition(batchSize > 0 && epochs >= 0, "fit: batchSize must be > 0 and epochs ≥ 0, got \(batchSize) and \(epochs)")
        precondition(validationSplit >= 0 && validationSplit < 1, "fit: validationSplit must be in [0, 1), got \(validationSplit)")
        var training = (x: x, y: y)
        var validation = validationData
        if validation == nil && validationSplit > 0 {
            let count = x.shape[0]
            let held = Int((Double(count) * validationSplit).rounded())
            precondition(held > 0 && held < count, "fit: validationSplit \(validationSplit) of \(count) samples leaves an empty split")
            training = (x.slice([0..<(count - held)]), y.slice([0..<(count - held)]))
            validation = (x.slice([(count - held)..<count]), y.slice([(count - held)..<count]))
        }
        if let validation { checkBatch(validation.x, validation.y, "fit (validation data)") }
        // In-memory data: batches are gathered on this thread (a copy is cheaper than a handoff).
        let loader = DataLoader(
            TensorDataset(inputs: training.x, targets: training.y), batchSize: batchSize,
            shuffle: shuffle, seed: seed, prefetch: false)
        let validationLoader = validation.map { DataLoader(TensorDataset(inputs: $0.x, targets: $0.y), batchSize: 256, prefetch: false) }
        do {
            return try fit(loader, validation: validationLoader, epochs: epochs, callbacks: callbacks, verbose: verbose)
        } catch {
            preconditionFailure("fit: reading in-memory tensors cannot fail, but did: \(error)")
        }
    }

    /// Trains on batches from `data` (shuffling, augmentation and prefetching are the loader's).
    ///
    /// With `resumingFrom`, the run continues a checkpoint (``ModelCheckpoint``) of a run with the
    /// same model, optimizer, callbacks, data and seed: the final weights are bitwise those of the
    /// run that was never stopped.
    ///
    /// - Throws: errors from reading the dataset (a corrupt file of a lazily read dataset), and a
    ///   checkpoint that does not fit this run (``BackpropError``; nothing of the model changed).
    @discardableResult
    public func fit(
        _ data: DataLoader, validation: DataLoader? = nil, epochs: Int = 1, callbacks: [any Callback] = [],
        verbose: Bool = true, resumingFrom checkpoint: TrainingCheckpoint? = nil, checkpointSource: String = "checkpoint"
    ) throws -> History {
        guard let optimizer, let loss else { preconditionFailure("fit: call compile(optimizer:loss:metrics:) first") }
        precondition(
            data.dataset.inputShape == inputShape,
            "fit: samples of shape \(data.dataset.inputShape) do not match the model's input shape \(inputShape)")
        let trainer = Trainer(model: self, optimizer: optimizer, loss: loss, metrics: metrics)
        return try trainer.fit(
            data, validation: validation, epochs: epochs, callbacks: (verbose ? [ProgressBar()] : []) + callbacks,
            log: verbose ? { print($0) } : { _ in }, resumingFrom: checkpoint.map { ($0, checkpointSource) })
    }

    /// Loss and metrics over the loader's batches, without training.
    public func evaluate(_ data: DataLoader) throws -> Logs {
        guard let loss else { preconditionFailure("evaluate: call compile(optimizer:loss:metrics:) first") }
        return try Trainer.evaluate(network, loss: loss, metrics: metrics, data: data)
    }

    /// Loss and metrics on (x, y), without training (inference mode, no tape).
    public func evaluate(_ x: Tensor, _ y: Tensor, batchSize: Int = 256) -> Logs {
        guard let loss else { preconditionFailure("evaluate: call compile(optimizer:loss:metrics:) first") }
        checkBatch(x, y, "evaluate")
        let loader = DataLoader(TensorDataset(inputs: x, targets: y), batchSize: batchSize, prefetch: false)
        do {
            return try Trainer.evaluate(network, loss: loss, metrics: metrics, data: loader)
        } catch {
            preconditionFailure("evaluate: reading in-memory tensors cannot fail, but did: \(error)")
        }
    }

    /// The network's outputs for x, computed in batches (inference mode, no tape).
    public func predict(_ x: Tensor, batchSize: Int = 256) -> Tensor {
        checkInput(x, "predict")
        let count = x.shape[0]
        let outputs = withoutGradient {
            stride(from: 0, to: count, by: batchSize).map { start in
                network(x.slice([start..<min(start + batchSize, count)]))
            }
        }
        return outputs.isEmpty ? withoutGradient { network(x) } : Tensor.concatenate(outputs)
    }

    private func checkInput(_ x: Tensor, _ operation: String) {
        precondition(
            x.rank == inputShape.rank + 1 && Array(x.shape.dimensions.dropFirst()) == inputShape.dimensions,
            "\(operation): inputs of shape \(x.shape) do not match the model's input shape [N] + \(inputShape)")
    }

    private func checkBatch(_ x: Tensor, _ y: Tensor, _ operation: String) {
        checkInput(x, operation)
        precondition(y.rank >= 1 && y.shape[0] == x.shape[0], "\(operation): \(x.shape[0]) inputs but targets of shape \(y.shape)")
    }
}
