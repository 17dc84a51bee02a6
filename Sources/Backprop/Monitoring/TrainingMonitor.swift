import CBackpropKernels
import Foundation

/// What ``TrainingMonitor`` measured at one sampled step.
public struct MonitorSample: Sendable, Codable {
    /// One layer's output at the step.
    public struct Layer: Sendable, Codable {
        /// The path in the model walk, e.g. `layers.2`.
        public var path: String
        /// The layer's type, e.g. `Conv2D`.
        public var type: String
        /// The layer's activation function (`relu`, `tanh`…), if it applies one.
        public var activation: String?
        public var output: TensorStatistics
        /// For layers ending in ReLU: share of exact zeros, and of units zero over the whole batch.
        public var reluZeroFraction: Double?
        public var deadUnitFraction: Double?
        /// For tanh and sigmoid: share of saturated values.
        public var saturatedFraction: Double?
    }

    /// One parameter at the step.
    public struct Parameter: Sendable, Codable {
        public var name: String
        /// ‖∇W‖₂ before clipping.
        public var gradientNorm: Double
        /// NaN or ±∞ gradient values.
        public var gradientNonFinite: Int
        /// ‖W‖₂ before the step.
        public var weightNorm: Double
        /// ‖ΔW‖₂ / ‖W‖₂ of this step's update (the course's ~1e-3 guide).
        public var updateRatio: Double?
        /// The gradient's statistics and histogram.
        public var gradient: TensorStatistics
    }

    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var layers: [Layer]
    public var parameters: [Parameter]
}

/// Samples activation, gradient and update statistics every `every` steps, at the loop's stages:
/// layer outputs after the forward pass, gradient norms when gradients are ready (before
/// clipping and the step), update/weight ratios after the step. Weight statistics per epoch.
/// Other callbacks (``TensorBoardLogger``, ``RunReport``) read ``samples`` and
/// ``epochWeights``; put the monitor before them.
public final class TrainingMonitor: Callback {
    /// Steps between samples (1 = every step).
    public let every: Int
    /// Histogram buckets.
    public let bins: Int
    /// The samples so far, oldest first.
    public private(set) var samples: [MonitorSample] = []
    /// Per completed epoch: every parameter's value statistics.
    public private(set) var epochWeights: [(epoch: Int, parameters: [(name: String, statistics: TensorStatistics)])] = []
    /// Seconds spent measuring (to report the monitor's own cost).
    public private(set) var seconds = 0.0
    /// The most samples kept; beyond it every other one is dropped (spacing doubles).
    public var capacity = 2000

    private var pending: MonitorSample?
    private var before: [String: [Float]] = [:]
    /// The model's parameters by path, walked once per run (reflection is not free).
    private var parameters: [(name: String, parameter: Parameter)] = []

    public init(every: Int = 100, bins: Int = 30) {
        precondition(every > 0 && bins > 0, "TrainingMonitor: every and bins must be positive")
        self.every = every
        self.bins = bins
    }

    public func trainingWillBegin(_ state: TrainingState) { parameters = state.model.namedParameters }

    /// The first step and every `every`-th after it.
    public func wantsLayerOutputs(atStep step: Int) -> Bool { (step - 1) % every == 0 }

    public func forwardDidEnd(_ pass: ForwardPass, _ state: TrainingState) {
        guard !pass.layerOutputs.isEmpty, wantsLayerOutputs(atStep: state.globalStep + 1) else { return }
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        let layers = pass.layerOutputs.map { record -> MonitorSample.Layer in
            let function = Self.activation(of: record.layer)
            let statistics = TensorStatistics(record.output, bins: bins)
            let isReLU = function == .relu
            return MonitorSample.Layer(
                path: record.path, type: record.layer.typeName, activation: function?.jsonName, output: statistics,
                reluZeroFraction: isReLU ? statistics.zeroFraction : nil,
                deadUnitFraction: isReLU ? TensorStatistics.deadUnitFraction(record.output) : nil,
                saturatedFraction: function.flatMap { TensorStatistics.saturatedFraction(record.output, for: $0) })
        }
        pending = MonitorSample(step: state.globalStep + 1, epoch: state.epoch, loss: Double(pass.loss), layers: layers, parameters: [])
    }

    public func gradientsReady(_ state: TrainingState) {
        guard var sample = pending else { return }
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        before = [:]
        for (name, parameter) in parameters where parameter.isTrainable {
            let gradient = parameter.withGradient { TensorStatistics($0, bins: bins) }
            let value = parameter.value
            let copy = Array(UnsafeBufferPointer(start: value.storage.pointer, count: value.elementCount))
            before[name] = copy
            let weightNorm = bp_summarize(copy, Int64(copy.count)).sum_squares.squareRoot()
            sample.parameters.append(
                .init(
                    name: name, gradientNorm: gradient.norm, gradientNonFinite: gradient.nonFiniteCount, weightNorm: weightNorm,
                    updateRatio: nil, gradient: gradient))
        }
        pending = sample
    }

    public func stepDidEnd(_ state: TrainingState) {
        guard var sample = pending else { return }
        pending = nil
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        let values = Dictionary(parameters.map { ($0.name, $0.parameter) }, uniquingKeysWith: { first, _ in first })
        for index in sample.parameters.indices {
            let name = sample.parameters[index].name
            guard let old = before[name], let parameter = values[name], sample.parameters[index].weightNorm > 0 else { continue }
            let squares = bp_squared_distance(parameter.value.storage.pointer, old, Int64(old.count))
            sample.parameters[index].updateRatio = state.lastStepApplied ? squares.squareRoot() / sample.parameters[index].weightNorm : 0
        }
        before = [:]
        samples.append(sample)
        // Long runs: keep at most `capacity` samples by dropping every other one (first and last stay).
        if samples.count > capacity {
            samples = samples.enumerated().filter { $0.offset % 2 == 0 || $0.offset == samples.count - 1 }.map(\.element)
        }
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        epochWeights.append((record.epoch, parameters.map { ($0.name, TensorStatistics($0.parameter.value, bins: bins)) }))
    }

    /// The activation a layer applies last, if it has one (`Activation`, or an `activation` property).
    static func activation(of layer: any Layer) -> ActivationFunction? {
        if let layer = layer as? Activation { return layer.function }
        for child in Mirror(reflecting: layer).children where child.label == "activation" {
            if let function = child.value as? ActivationFunction, function != .identity { return function }
        }
        return nil
    }
}
