import Foundation

/// Writes TensorBoard event files under `logdir`: `train/` and `validation/` runs (Keras's
/// layout) with scalars per step and per epoch, histograms of weights (every epoch), gradients
/// and activations (every sampled step of the ``TrainingMonitor``), images (first-layer filters,
/// worst validation examples) and the model summary as text. Open with
/// `tensorboard --logdir LOGDIR`.
public final class TensorBoardLogger: Callback {
    public let logdir: String
    /// Steps between per-step scalars.
    public let every: Int
    private let monitor: TrainingMonitor?
    private let classNames: [String]?
    private var train: EventFileWriter?
    private var validation: EventFileWriter?
    /// The first error writing, reported once instead of stopping training.
    public private(set) var failure: String?
    /// Seconds spent encoding and writing (to report the logger's own cost).
    public private(set) var seconds = 0.0

    public init(logdir: String, monitor: TrainingMonitor? = nil, every: Int = 10, classNames: [String]? = nil) {
        precondition(every > 0, "TensorBoardLogger: every must be positive")
        self.logdir = logdir
        self.monitor = monitor
        self.every = every
        self.classNames = classNames
    }

    public var wantsValidationPredictions: Bool { true }

    public func trainingWillBegin(_ state: TrainingState) {
        do {
            train = try EventFileWriter(folder: logdir + "/train")
            validation = try EventFileWriter(folder: logdir + "/validation")
            var text = "<pre>" + state.model.summary() + "</pre>"
            if let architecture = state.model.architecture {
                text += "\n\n<pre>" + String(decoding: architecture.jsonData(), as: UTF8.self) + "</pre>"
            }
            try train?.write(step: state.globalStep, [.text(tag: "model/summary", text: text)])
        } catch { report(error, state) }
    }

    public func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState) {
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        let step = state.globalStep
        var values: [SummaryValue] = []
        if step % every == 0 || step == 1 {
            values += logs.entries.map { .scalar(tag: "batch/" + $0.name, value: Float($0.value)) }
            values += [
                .scalar(tag: "batch/learning_rate", value: state.optimizer.learningRate),
                .scalar(tag: "batch/batch_size", value: Float(state.batchSize)),
            ]
        }
        if let sample = monitor?.samples.last, sample.step == step {
            for layer in sample.layers {
                let name = layer.path.isEmpty ? "output" : layer.path
                values.append(.histogram(tag: "activations/" + name, statistics: layer.output))
                if let dead = layer.reluZeroFraction { values.append(.scalar(tag: "relu_zero_fraction/" + name, value: Float(dead))) }
                if let saturated = layer.saturatedFraction {
                    values.append(.scalar(tag: "saturated_fraction/" + name, value: Float(saturated)))
                }
            }
            for parameter in sample.parameters {
                values.append(.histogram(tag: "gradients/" + parameter.name, statistics: parameter.gradient))
                values.append(.scalar(tag: "gradient_norm/" + parameter.name, value: Float(parameter.gradientNorm)))
                if let ratio = parameter.updateRatio {
                    values.append(.scalar(tag: "update_ratio/" + parameter.name, value: Float(ratio)))
                }
            }
        }
        write(train, step: step, values, state)
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        let step = state.globalStep
        var values: [SummaryValue] = record.training.entries.map { .scalar(tag: "epoch/" + $0.name, value: Float($0.value)) }
        values += [
            .scalar(tag: "epoch/learning_rate", value: record.learningRate),
            .scalar(tag: "epoch/batch_size", value: Float(record.batchSize)),
            .scalar(tag: "epoch/seconds", value: Float(record.seconds)),
        ]
        // The monitor measured the weights at this epoch's end already (it runs first).
        if let weights = monitor?.epochWeights.last, weights.epoch == record.epoch {
            values += weights.parameters.map { .histogram(tag: "weights/" + $0.name, statistics: $0.statistics) }
        } else {
            for (name, parameter) in state.model.namedParameters {
                values.append(.histogram(tag: "weights/" + name, statistics: TensorStatistics(parameter.value)))
            }
        }
        if let (path, image) = MonitorImages.firstLayerFilters(of: state.model) {
            values.append(.image(tag: "filters/" + path, png: image))
        }
        write(train, step: step, values, state)
        var validationValues: [SummaryValue] =
            record.validation?.entries.map { .scalar(tag: "epoch/" + $0.name, value: Float($0.value)) } ?? []
        if let outcome = state.validationOutcome, let image = outcome.worstImage {
            validationValues.append(.image(tag: "worst_examples", png: image))
            let names = classNames ?? (0..<outcome.confusion.count).map(String.init)
            let lines = outcome.worst.map {
                "- true **\(Self.name($0.label, names))**, predicted \(Self.name($0.predicted, names)) (p(true) = \(String(format: "%.3f", $0.probability)))"
            }
            validationValues.append(.text(tag: "worst_examples/labels", text: lines.joined(separator: "\n")))
        }
        write(validation, step: step, validationValues, state)
    }

    private static func name(_ index: Int, _ names: [String]) -> String { index < names.count ? names[index] : "\(index)" }

    private func write(_ writer: EventFileWriter?, step: Int, _ values: [SummaryValue], _ state: TrainingState) {
        do { try writer?.write(step: step, values) } catch { report(error, state) }
    }

    private func report(_ error: Error, _ state: TrainingState) {
        guard failure == nil else { return }
        failure = "\(error)"
        state.log("TensorBoard: \(error); training goes on without event files")
        train = nil
        validation = nil
    }
}
