import Backprop
import Foundation
import Testing

/// Transfer learning in the library: a new head, frozen layers that do not move (batch norm's
/// statistics included), and unfreezing for fine-tuning.
struct TransferTests {
    static func base() throws -> Model {
        seedGlobalRandom(3)
        let architecture = Architecture(
            inputShape: [6, 6, 1],
            layers: [
                .conv2D(filters: 3, kernelSize: 3, padding: .same, activation: .relu), .batchNorm(), .maxPool2D(size: 2), .flatten,
                .dense(units: 8, activation: .relu), .dense(units: 4),
            ])
        return try architecture.makeModel()
    }

    static func data(classes: Int) -> (Tensor, Tensor) {
        var generator = RandomGenerator(seed: 8)
        return (
            Tensor((0..<(40 * 36)).map { _ in generator.nextUniform() }, shape: [40, 6, 6, 1]),
            Tensor((0..<40).map { Float($0 % classes) }, shape: [40])
        )
    }

    @Test func aNewHeadKeepsEveryOtherWeight() throws {
        let base = try Self.base()
        let (model, head) = try base.transferred(toOutputs: 3)
        #expect(head == 5 && model.architecture?.layers[5] == .dense(units: 3))
        let old = Dictionary(uniqueKeysWithValues: base.stateDict().map { ($0.name, $0.value.scalars) })
        for (name, value) in model.stateDict() {
            if name.hasPrefix("layers.5.") {
                #expect(value.shape.dimensions.last == 3)
            } else {
                #expect(old[name] == value.scalars, "\(name)")
            }
        }
    }

    @Test func frozenLayersAndTheirStatisticsDoNotMove() throws {
        let (model, _) = try Self.base().transferred(toOutputs: 3)
        let frozen = model.freeze(upTo: 4)
        #expect(frozen.count == 6)  // conv weight and bias, γ and β, dense weight and bias
        let before = model.stateDict()
        model.compile(optimizer: Adam(learningRate: 0.05), loss: SoftmaxCrossEntropy())
        let (x, y) = Self.data(classes: 3)
        model.fit(x, y, batchSize: 8, epochs: 2, verbose: false)
        for ((name, old), (_, new)) in zip(before, model.stateDict()) {
            let moved = old.scalars != new.scalars
            #expect(moved == name.hasPrefix("layers.5."), "\(name) moved: \(moved)")
        }
    }

    @Test func unfreezeFineTunesTheRestLater() throws {
        let (model, _) = try Self.base().transferred(toOutputs: 3)
        let frozen = model.freeze(upTo: 4)
        model.compile(optimizer: Adam(learningRate: 0.05), loss: SoftmaxCrossEntropy())
        let (x, y) = Self.data(classes: 3)
        let after1 = Snapshot()
        model.fit(x, y, batchSize: 8, epochs: 3, callbacks: [Unfreeze(after: 1, parameters: frozen), after1], verbose: false)
        // Epoch 1: the conv kernel stays; from epoch 2 it trains.
        #expect(after1.kernels[0] == after1.initial)
        #expect(after1.kernels[1] != after1.initial)
        #expect(frozen.allSatisfy { $0.isTrainable })
    }

    /// Records the first kernel after each epoch.
    final class Snapshot: Callback {
        var initial: [Float] = []
        var kernels: [[Float]] = []
        func trainingWillBegin(_ state: TrainingState) { initial = state.model.parameters(ofLayer: 0)[0].value.scalars }
        func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
            kernels.append(state.model.parameters(ofLayer: 0)[0].value.scalars)
        }
    }
}
