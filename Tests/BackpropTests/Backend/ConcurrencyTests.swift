import Backprop
import Foundation
import Synchronization
import Testing

/// Trials side by side in one process: the oneDNN primitives of one shape are shared by every
/// thread, so the cache must serialize calls on each object.
struct ConcurrencyTests {
    /// Trains a small CNN (convolution, pooling, batch norm) with a fixed seed on this thread and
    /// returns its final parameters.
    static func trainSmallCNN(seed: UInt64) -> [Float] {
        seedGlobalRandom(seed)
        var generator = RandomGenerator(seed: 7)
        let x = Tensor((0..<(64 * 8 * 8 * 2)).map { _ in generator.nextNormal() }, shape: [64, 8, 8, 2])
        let y = Tensor((0..<64).map { Float($0 % 3) })
        let model = Model(inputShape: [8, 8, 2]) {
            Conv2D(2, 6, kernelSize: 3, padding: .same, activation: .relu)
            MaxPool2D(2)
            BatchNorm(channels: 6)
            Flatten()
            Dense(4 * 4 * 6, 3)
        }
        model.compile(optimizer: Adam(learningRate: 1e-2), loss: .softmaxCrossEntropy)
        model.fit(x, y, batchSize: 16, epochs: 3, shuffle: true, seed: seed, verbose: false)
        return model.namedParameters.flatMap { $0.parameter.value.scalars }
    }

    /// Without the per-object lock this run corrupts oneDNN's state or hangs; the limit turns a hang
    /// into a failure.
    @Test(.timeLimit(.minutes(1))) func twoThreadsTrainTheSameShapesAsOneThreadWould() {
        let alone = Self.trainSmallCNN(seed: 3)
        let results = Mutex<[[Float]]>([])
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<2 {
            Thread {
                let parameters = Self.trainSmallCNN(seed: 3)
                results.withLock { $0.append(parameters) }
                done.signal()
            }.start()
        }
        done.wait()
        done.wait()
        let together = results.withLock { $0 }
        #expect(together.count == 2)
        for parameters in together {
            #expect(parameters.count == alone.count)
            let difference = zip(parameters, alone).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference < 1e-4, "a thread's run differs from the single-threaded one by \(difference)")
        }
    }
}
