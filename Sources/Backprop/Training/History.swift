/// What `fit` measured: one record per completed epoch.
public struct History: Sendable {
    /// One epoch's figures.
    public struct Epoch: Sendable {
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
    }

    /// The epochs, in order.
    public internal(set) var epochs: [Epoch] = []

    /// The per-epoch series of a value: `history["loss"]`, `history["val_accuracy"]`.
    public subscript(name: String) -> [Double] {
        if name.hasPrefix("val_") {
            let base = String(name.dropFirst(4))
            return epochs.compactMap { $0.validation?[base] }
        }
        return epochs.compactMap { $0.training[name] }
    }
}
