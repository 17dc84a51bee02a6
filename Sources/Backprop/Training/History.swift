/// What `fit` measured: one record per completed epoch.
public struct History: Sendable, Codable {
    /// One epoch's figures.
    public struct Epoch: Sendable, Codable {
        /// 1-based epoch number.
        public let epoch: Int
        /// Training loss and metrics averaged over the epoch's samples.
        public let training: Logs
        /// The same on the validation data, when there was any.
        public let validation: Logs?
        /// The learning rate at the end of the epoch.
        public let learningRate: Float
        /// Wall-clock seconds of the training steps.
        public let seconds: Double
        /// Samples per step during the epoch.
        public let batchSize: Int

        public init(epoch: Int, training: Logs, validation: Logs?, learningRate: Float, seconds: Double, batchSize: Int) {
            self.epoch = epoch
            self.training = training
            self.validation = validation
            self.learningRate = learningRate
            self.seconds = seconds
            self.batchSize = batchSize
        }

        /// A logged value by name: `loss`, `accuracy`, `val_loss`, `penalty`…
        public func value(_ name: String) -> Double? {
            name.hasPrefix("val_") ? validation?[String(name.dropFirst(4))] : training[name]
        }
    }

    /// The epochs, in order.
    public internal(set) var epochs: [Epoch] = []

    /// The per-epoch series of a value: `history["loss"]`, `history["val_accuracy"]`.
    public subscript(name: String) -> [Double] { epochs.compactMap { $0.value(name) } }

    /// The learning rate at the end of each epoch.
    public var learningRates: [Float] { epochs.map(\.learningRate) }
}
