import Foundation
import Synchronization
import Testing

@testable import Backprop

/// The CPU backend keeps convolution and pooling activations in oneDNN's blocked layout; these
/// tests hold it to the NHWC backend's numbers and check that nothing outside sees the layout.
struct BlockedLayoutTests {
    static let blocked = CPUBackend()
    static let nhwc = CPUBackend(blockedLayouts: false)

    static func storage(_ values: [Float]) -> TensorStorage {
        let storage = TensorStorage(uninitializedCount: values.count)
        storage.pointer.update(from: values, count: values.count)
        return storage
    }

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in generator.nextNormal() }
    }

    /// conv C→32 → batch norm and max pool, then every backward pass, through one backend. With 32
    /// input channels the convolution runs Winograd kernels on AVX-512, with 16 direct ones.
    static func run(
        _ backend: CPUBackend, inputChannels: Int = 16
    ) -> (output: TensorStorage, pooled: TensorStorage, results: [[Float]]) {
        let conv = ConvolutionGeometry(
            batch: 2, inputHeight: 6, inputWidth: 6, inputChannels: inputChannels, outputHeight: 6, outputWidth: 6, outputChannels: 32,
            kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padTop: 1,
            padLeft: 1, padBottom: 1, padRight: 1, hasBias: true)
        let pool = PoolingGeometry(
            batch: 2, inputHeight: 6, inputWidth: 6, channels: 32, outputHeight: 3, outputWidth: 3, kernelHeight: 2,
            kernelWidth: 2, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, kind: .max)
        let input = storage(values(2 * 6 * 6 * inputChannels, seed: 1))
        let weight = storage(values(3 * 3 * inputChannels * 32, seed: 2))
        let bias = storage(values(32, seed: 3))
        let output = TensorStorage(uninitializedCount: conv.outputElementCount)
        backend.convolutionForward(conv, input: input, weight: weight, bias: bias, into: output)
        // Batch norm reads the blocked output as it is and writes its own output blocked.
        let rows = 2 * 6 * 6
        let (scale, shift) = (storage(values(32, seed: 5)), storage(values(32, seed: 6)))
        let normalized = TensorStorage(uninitializedCount: output.count)
        let (mean, variance) = (TensorStorage(uninitializedCount: 32), TensorStorage(uninitializedCount: 32))
        backend.batchNormalizationForward(
            rows: rows, channels: 32, epsilon: 1e-3, input: output, scale: scale, shift: shift, into: normalized, mean: mean,
            variance: variance)
        let normalizedGradient = storage(values(output.count, seed: 7))
        let bnGradients = [output.count, 32, 32].map { TensorStorage(uninitializedCount: $0) }
        backend.batchNormalizationBackward(
            rows: rows, channels: 32, epsilon: 1e-3, input: output, mean: mean, variance: variance,
            outputGradient: normalizedGradient, scale: scale, shift: shift, into: bnGradients[0], scaleGradient: bnGradients[1],
            shiftGradient: bnGradients[2])
        let pooled = TensorStorage(uninitializedCount: 2 * 3 * 3 * 32)
        let workspace = backend.poolingForward(pool, input: output, into: pooled)
        let pooledGradient = storage(values(2 * 3 * 3 * 32, seed: 4))
        let outputGradient = TensorStorage(uninitializedCount: conv.outputElementCount)
        backend.poolingBackward(pool, outputGradient: pooledGradient, workspace: workspace, into: outputGradient)
        let inputGradient = TensorStorage(uninitializedCount: input.count)
        backend.convolutionBackwardData(conv, outputGradient: outputGradient, weight: weight, into: inputGradient)
        let weightGradient = TensorStorage(uninitializedCount: weight.count)
        let biasGradient = TensorStorage(uninitializedCount: 32)
        backend.convolutionBackwardWeights(
            conv, input: input, outputGradient: outputGradient, into: weightGradient, biasGradient: biasGradient)
        let results = ([inputGradient, weightGradient, biasGradient, normalized, mean, variance] + bnGradients).map { Array($0.buffer) }
        return (output, pooled, results)
    }

    /// With 32 input channels the convolution runs Winograd on AVX-512; block 8 is AVX2's layout
    /// (oneDNN may run it with slower kernels here, but the results must be the same).
    @Test(arguments: [(16, nil), (32, nil), (16, 8), (32, 8)] as [(Int, Int?)])
    func blockedKernelsGiveTheNHWCResults(inputChannels: Int, block: Int?) {
        let backend = block.map { CPUBackend(activationBlock: $0) } ?? Self.blocked
        let (output, pooled, results) = Self.run(backend, inputChannels: inputChannels)
        if backend.activationBlock > 0 {
            #expect(output.nativeLayout != nil && pooled.nativeLayout != nil, "activations should stay blocked")
        }
        let reference = Self.run(Self.nhwc, inputChannels: inputChannels)
        #expect(reference.output.nativeLayout == nil)
        let pairs =
            [(Array(output.buffer), Array(reference.output.buffer)), (Array(pooled.buffer), Array(reference.pooled.buffer))]
            + zip(results, reference.results).map { ($0, $1) }
        // Relative to each result's largest magnitude (Winograd's rounding is spread over a tile, so
        // single small elements can be off by more).
        for (index, (got, expected)) in pairs.enumerated() {
            let scale = max(expected.map(abs).max() ?? 0, 1e-6)
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst / scale < 1e-5, "result \(index) differs by \(worst) (largest magnitude \(scale))")
        }
        // Read once, the storage is row-major for good.
        #expect(output.nativeLayout == nil && pooled.nativeLayout == nil)
    }

    /// 3×3 stride-1 convolutions with at least 32 channels run Winograd where oneDNN has it.
    @Test func wideThreeByThreeConvolutionsRunWinograd() {
        guard CPUBackend.preferredActivationBlock() == 16 else { return }  // Winograd is AVX-512 only
        var geometry = ConvolutionGeometry(
            batch: 2, inputHeight: 6, inputWidth: 6, inputChannels: 32, outputHeight: 6, outputWidth: 6, outputChannels: 32,
            kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padTop: 1,
            padLeft: 1, padBottom: 1, padRight: 1, hasBias: true)
        #expect(Self.blocked.kernelNames(geometry).allSatisfy { $0.contains("wino") }, "\(Self.blocked.kernelNames(geometry))")
        geometry.inputChannels = 16
        #expect(!Self.blocked.kernelNames(geometry).contains { $0.contains("wino") })
        #expect(!Self.nhwc.kernelNames(geometry).contains { $0.contains("wino") || $0.hasPrefix("ref") })
    }

    @Test func elementwiseKernelsKeepTheLayoutAndViewsSeeRowMajor() {
        let (output, _, _) = Self.run(Self.blocked)
        guard output.nativeLayout != nil else { return }  // a CPU without AVX2 keeps NHWC
        let doubled = TensorStorage(uninitializedCount: output.count)
        Self.blocked.scale(output, by: 2, into: doubled, count: output.count, accumulate: false)
        #expect(doubled.nativeLayout != nil)
        let tail = TensorStorage(viewing: doubled, offset: output.count - 32, count: 32)  // the last pixel's channels
        let rowMajor = Array(output.buffer)
        #expect(Array(tail.buffer) == rowMajor.suffix(32).map { $0 * 2 })
    }

    /// One thread converts a blocked storage to row-major (reading `pointer`) while another runs a
    /// kernel on its blocked elements: both must see the same values, whichever comes first. Own
    /// threads, not tasks: the cooperative pool may be busy with other tests.
    @Test(.timeLimit(.minutes(3))) func conversionWhileAKernelReadsIsSafe() {
        for _ in 0..<8 {
            let (output, _, _) = Self.run(Self.blocked)
            guard output.nativeLayout != nil else { return }  // a CPU without AVX2 keeps NHWC
            let results = Mutex<(values: [Float], doubled: [Float])>(([], []))
            let done = DispatchSemaphore(value: 0)
            Thread {
                let values = Array(output.buffer)
                results.withLock { $0.values = values }
                done.signal()
            }.start()
            Thread {
                let doubled = TensorStorage(uninitializedCount: output.count)
                Self.blocked.scale(output, by: 2, into: doubled, count: output.count, accumulate: false)
                let values = Array(doubled.buffer)
                results.withLock { $0.doubled = values }
                done.signal()
            }.start()
            done.wait()
            done.wait()
            let (values, doubled) = results.withLock { ($0.values, $0.doubled) }
            #expect(doubled == values.map { $0 * 2 })
        }
    }

    @Test func inferenceKeepsNHWC() {
        let input = Tensor.randomNormal([2, 6, 6, 16])
        let weight = Tensor.randomNormal([3, 3, 16, 16])
        let output = withoutGradient { input.conv2D(weight, padding: .same).maxPool2D(size: (2, 2)) }
        #expect(output.storage.nativeLayout == nil)
    }

    /// Same seed, same bits, with blocked activations in every layer.
    @Test func trainingIsReproducible() {
        func train() -> [Float] {
            var generator = RandomGenerator(seed: 5)
            let x = Tensor((0..<(32 * 8 * 8 * 1)).map { _ in generator.nextNormal() }, shape: [32, 8, 8, 1])
            let y = Tensor((0..<32).map { Float($0 % 3) })
            seedGlobalRandom(11)
            let model = Model(inputShape: [8, 8, 1]) {
                Conv2D(1, 16, kernelSize: 3, padding: .same, activation: .relu)
                MaxPool2D(2)
                Conv2D(16, 32, kernelSize: 3, padding: .same, activation: .relu)
                MaxPool2D(2)
                Flatten()
                Dense(2 * 2 * 32, 3)
            }
            model.compile(optimizer: Adam(learningRate: 1e-2), loss: .softmaxCrossEntropy)
            model.fit(x, y, batchSize: 8, epochs: 2, shuffle: true, seed: 3, verbose: false)
            return model.namedParameters.flatMap { $0.parameter.value.scalars }
        }
        #expect(train() == train())
    }
}
