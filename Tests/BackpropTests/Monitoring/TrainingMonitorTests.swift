import Foundation
import Testing

@testable import Backprop

/// The loop's stages and what the monitor reads at each.
struct TrainingMonitorTests {
    static func images(_ count: Int, seed: UInt64) -> (Tensor, Tensor) {
        var generator = RandomGenerator(seed: seed)
        let x = Tensor((0..<(count * 8 * 8)).map { _ in generator.nextUniform() }, shape: [count, 8, 8, 1])
        let y = Tensor((0..<count).map { Float($0 % 3) }, shape: [count])
        return (x, y)
    }

    static func cnn(seed: UInt64) -> Model {
        seedGlobalRandom(seed)
        return Model(inputShape: [8, 8, 1]) {
            Conv2D(1, 4, kernelSize: 3, padding: .same, activation: .relu)
            MaxPool2D(2)
            Sequential {
                Flatten()
                Dense(64, 8, activation: .tanh)
            }
            Dropout(rate: 0.2)
            Dense(8, 3)
        }
    }

    /// Logs the order of the hooks and what each saw.
    final class StageProbe: Callback {
        var events: [String] = []
        var gradientNorms: [Double] = []
        var weightBeforeStep: [Float] = []
        var weightAfterStep: [Float] = []
        var layerPaths: [String] = []
        func batchWillBegin(_ batch: Int, _ state: TrainingState) { events.append("begin") }
        func wantsLayerOutputs(atStep step: Int) -> Bool { step == 1 }
        func forwardDidEnd(_ pass: ForwardPass, _ state: TrainingState) {
            events.append("forward")
            if layerPaths.isEmpty { layerPaths = pass.layerOutputs.map(\.path) }
        }
        func gradientsReady(_ state: TrainingState) {
            events.append("gradients")
            let weight = state.model.namedParameters.first { $0.name == "layers.0.weight" }!.parameter
            gradientNorms.append(TensorStatistics(weight.gradient).norm)
            weightBeforeStep = weight.value.scalars
        }
        func stepDidEnd(_ state: TrainingState) {
            events.append("step")
            weightAfterStep = state.model.namedParameters.first { $0.name == "layers.0.weight" }!.parameter.value.scalars
        }
        func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState) { events.append("end") }
    }

    @Test func stagesRunInOrderWithGradientsBeforeClipping() throws {
        let model = Self.cnn(seed: 1)
        let optimizer = SGD(learningRate: 0.1)
        optimizer.clipNorm = 1e-6  // clipping would shrink the norm a monitor reads to 1e-6
        model.compile(optimizer: optimizer, loss: SoftmaxCrossEntropy())
        let probe = StageProbe()
        let (x, y) = Self.images(32, seed: 2)
        model.fit(x, y, batchSize: 16, epochs: 1, shuffle: false, callbacks: [probe], verbose: false)
        #expect(probe.events == ["begin", "forward", "gradients", "step", "end", "begin", "forward", "gradients", "step", "end"])
        #expect(probe.gradientNorms.allSatisfy { $0 > 1e-4 })
        #expect(probe.weightBeforeStep != probe.weightAfterStep)
        // The model walk names nested layers: the inner Sequential's layers too.
        #expect(probe.layerPaths == ["layers.0", "layers.1", "layers.2.layers.0", "layers.2.layers.1", "layers.2", "layers.3", "layers.4"])
        #expect(model.network.namedLayers.map(\.path).contains("layers.2.layers.1"))
    }

    @Test func updateRatioIsTheStepOverTheWeight() throws {
        let model = Self.cnn(seed: 3)
        model.compile(optimizer: SGD(learningRate: 0.05), loss: SoftmaxCrossEntropy())
        let monitor = TrainingMonitor(every: 1)
        let (x, y) = Self.images(48, seed: 4)
        model.fit(x, y, batchSize: 16, epochs: 1, shuffle: false, callbacks: [monitor], verbose: false)
        #expect(monitor.samples.map(\.step) == [1, 2, 3])
        for sample in monitor.samples {
            #expect(sample.layers.count == 7)
            for parameter in sample.parameters {
                // Plain SGD: ΔW = lr · ∇W, so ‖ΔW‖/‖W‖ = lr · ‖∇W‖ / ‖W‖.
                guard parameter.weightNorm > 0 else {
                    #expect(parameter.updateRatio == nil)  // a zero bias at the first step: no ratio
                    continue
                }
                let expected = 0.05 * parameter.gradientNorm / parameter.weightNorm
                let ratio = try #require(parameter.updateRatio)
                #expect(abs(ratio - expected) <= 1e-4 * expected + 1e-9, "\(parameter.name)")
            }
            let conv = try #require(sample.layers.first { $0.path == "layers.0" })
            #expect(conv.activation == "relu" && conv.reluZeroFraction == conv.output.zeroFraction && conv.deadUnitFraction != nil)
            #expect(sample.layers.first { $0.path == "layers.2.layers.1" }?.saturatedFraction != nil)
        }
        #expect(monitor.epochWeights.count == 1 && monitor.epochWeights[0].parameters.count == 6)
    }

    /// Recording layer outputs turns fusions off for the sampled steps; the run stays bit for bit.
    @Test func monitoringDoesNotChangeTheRun() throws {
        func weights(monitored: Bool) -> [[Float]] {
            let model = Self.cnn(seed: 5)
            model.compile(optimizer: Adam(learningRate: 0.01), loss: SoftmaxCrossEntropy())
            let (x, y) = Self.images(64, seed: 6)
            model.fit(
                x, y, batchSize: 16, epochs: 2, seed: 7, callbacks: monitored ? [TrainingMonitor(every: 1)] : [], verbose: false)
            return model.namedParameters.map { $0.parameter.value.scalars }
        }
        #expect(weights(monitored: true) == weights(monitored: false))
    }

    @Test func samplingFollowsEvery() {
        let monitor = TrainingMonitor(every: 50)
        #expect((1...200).filter { monitor.wantsLayerOutputs(atStep: $0) } == [1, 51, 101, 151])
    }
}
