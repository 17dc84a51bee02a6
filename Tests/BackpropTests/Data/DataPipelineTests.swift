import Backprop
import Foundation
import Synchronization
import Testing

struct DataPipelineTests {
    static func numbered(_ count: Int, classes: Int = 3) -> TensorDataset {
        TensorDataset(
            inputs: Tensor((0..<count * 4).map(Float.init), shape: [count, 2, 2, 1]),
            targets: Tensor((0..<count).map { Float($0 % classes) }))
    }

    func collect(_ stream: BatchStream) throws -> [[Float]] {
        var batches: [[Float]] = []
        while let (inputs, _) = try stream.next() { batches.append(inputs.scalars) }
        return batches
    }

    @Test func batchesCoverEverySampleOnceInASeededOrder() throws {
        let loader = DataLoader(Self.numbered(10), batchSize: 4, shuffle: true, seed: 5, prefetch: false)
        let epoch1 = try collect(loader.batches(epoch: 1))
        let again = try collect(loader.batches(epoch: 1))
        let epoch2 = try collect(loader.batches(epoch: 2))
        #expect(epoch1.map(\.count) == [16, 16, 8])
        #expect(epoch1 == again && epoch1 != epoch2)
        #expect(Set(epoch1.flatMap { $0 }) == Set((0..<40).map(Float.init)))
        let dropping = DataLoader(Self.numbered(10), batchSize: 4, dropRemainder: true)
        #expect(try collect(dropping.batches(epoch: 1)).count == 2 && dropping.batchCount() == 2)
    }

    /// A tensor dataset reads a batch with one gather per tensor (split across threads when large);
    /// it must hold what reading each sample gives.
    @Test func batchReadEqualsSampleReads() throws {
        let count = 300
        let inputs = Tensor((0..<(count * 28 * 28)).map { Float($0 % 9973) }, shape: [count, 28, 28, 1])
        let targets = Tensor((0..<count).map { Float($0 % 10) }, shape: [count])
        let dataset = TensorDataset(inputs: inputs, targets: targets)
        var generator = RandomGenerator(seed: 5)
        let indices = (0..<256).map { _ in Int(generator.next() % UInt64(count)) }
        let batch = (Tensor.zeros([256, 28, 28, 1]), Tensor.zeros([256]))
        try dataset.read(indices, inputs: batch.0, targets: batch.1)
        let subset = dataset.subset(indices)  // the protocol's default: one read per sample
        let expected = (Tensor.zeros([256, 28, 28, 1]), Tensor.zeros([256]))
        try subset.read(Array(0..<256), inputs: expected.0, targets: expected.1)
        #expect(batch.0.scalars == expected.0.scalars)
        #expect(batch.1.scalars == expected.1.scalars)
        #expect(batch.1.scalars[7] == Float(indices[7] % 10))
    }

    @Test func prefetchingGivesExactlyTheSameBatches() throws {
        let augmentation = Augmentation(.horizontalFlip, .shift(1), .noise(standardDeviation: 0.1), .erase(size: 1))
        let inline = DataLoader(Self.numbered(50), batchSize: 8, shuffle: true, seed: 3, augmentation: augmentation, prefetch: false)
        let prefetched = DataLoader(Self.numbered(50), batchSize: 8, shuffle: true, seed: 3, augmentation: augmentation, prefetch: true)
        for epoch in 1...3 { #expect(try collect(inline.batches(epoch: epoch)) == collect(prefetched.batches(epoch: epoch))) }
    }

    /// A dataset that counts the samples read.
    final class CountingDataset: Dataset, @unchecked Sendable {
        let base = DataPipelineTests.numbered(100)
        let reads = Mutex(0)
        var count: Int { base.count }
        var inputShape: Shape { base.inputShape }
        var targetShape: Shape { base.targetShape }
        func read(_ index: Int, input: UnsafeMutableBufferPointer<Float>, target: UnsafeMutableBufferPointer<Float>) throws {
            reads.withLock { $0 += 1 }
            usleep(1_000)
            try base.read(index, input: input, target: target)
        }
    }

    @Test func abandoningAnEpochStopsTheProducer() throws {
        let dataset = CountingDataset()
        let loader = DataLoader(dataset, batchSize: 2, prefetch: true)
        let stream = loader.batches(epoch: 1)
        _ = try stream.next()
        stream.cancel()
        #expect(try stream.next() == nil)
        usleep(200_000)
        let afterCancel = dataset.reads.withLock { $0 }
        usleep(200_000)
        // One batch taken, at most two ready ahead and one in progress: ≤ 8 of the 100 samples, and
        // nothing more once cancelled.
        #expect(afterCancel <= 8, "the producer read \(afterCancel) samples")
        #expect(dataset.reads.withLock { $0 } == afterCancel)
    }

    @Test func splitsAreDisjointSeededAndStratified() throws {
        let data = Self.numbered(90)
        let (kept, held) = try data.split(holdingOut: 0.2, stratified: true, seed: 1)
        #expect(kept.count == 72 && held.count == 18)
        #expect(Set(kept.indices).isDisjoint(with: held.indices))
        let heldLabels = try held.materialized().targets.scalars
        #expect((0..<3).map { c in heldLabels.filter { $0 == Float(c) }.count } == [6, 6, 6])
        #expect(try data.split(holdingOut: 0.2, seed: 1).heldOut.indices == data.split(holdingOut: 0.2, seed: 1).heldOut.indices)
        #expect(throws: BackpropError.self) { try data.split(holdingOut: 1.5) }
    }

    @Test func augmentationsDoWhatTheySay() throws {
        let image = Tensor((1...6).map(Float.init), shape: [1, 2, 3, 1])
        var generator = RandomGenerator(seed: 0)
        // Flip happens with probability ½: over a few draws both outcomes appear, and a flip reverses rows.
        var outcomes = Set<[Float]>()
        for _ in 0..<20 {
            let copy = image.copy()
            Augmentation(.horizontalFlip).apply(to: copy, generator: &generator)
            outcomes.insert(copy.scalars)
        }
        #expect(outcomes == [[1, 2, 3, 4, 5, 6], [3, 2, 1, 6, 5, 4]])
        let shifted = image.copy()
        Augmentation(.shift(3)).apply(to: shifted, generator: &generator)
        #expect(shifted.scalars.filter { $0 != 0 }.allSatisfy { (1...6).contains($0) })
        let erased = Tensor.ones([1, 8, 8, 1])
        var erasedSomething = false
        for _ in 0..<10 {
            let copy = erased.copy()
            Augmentation(.erase(size: 2)).apply(to: copy, generator: &generator)
            let zeros = copy.scalars.filter { $0 == 0 }.count
            #expect(zeros == 0 || zeros == 4)
            erasedSomething = erasedSomething || zeros == 4
        }
        #expect(erasedSomething)
        let rotated = Tensor.ones([1, 9, 9, 1])
        Augmentation(.rotation(degrees: 30)).apply(to: rotated, generator: &generator)
        #expect(rotated[0, 4, 4, 0] == 1)  // the centre stays
        #expect(throws: BackpropError.self) { try Augmentation(parsing: "flip,twirl") }
        #expect(try Augmentation(parsing: "flip,shift:3,erase").operations == [.horizontalFlip, .shift(3), .erase(size: 0)])
    }

    @Test func normalizationUsesTrainingStatisticsEverywhere() {
        let train = Tensor([1, 10, 3, 30], shape: [2, 2])  // feature 0: 1, 3; feature 1: 10, 30
        let normalize = Normalization(inputShape: [2])
        normalize.adapt(train)
        #expect(normalize(train).scalars.map { ($0 * 1000).rounded() / 1000 } == [-1, -1, 1, 1])
        // The test sample is transformed with the training statistics, not its own.
        #expect(normalize(Tensor([2, 20], shape: [1, 2])).scalars.map { abs($0) < 1e-5 } == [true, true])
        #expect(normalize.offset.isTrainable == false)
        let minMax = Normalization(inputShape: [2, 1, 1], kind: .minMax, perChannel: true)
        minMax.adapt(Tensor([0, 4, 2, 8], shape: [2, 2, 1, 1]))
        #expect(minMax(Tensor([0, 4, 2, 8], shape: [2, 2, 1, 1])).scalars == [0, 0.5, 0.25, 1])
    }

    @Test func modelTrainsFromALoaderWithValidation() throws {
        seedGlobalRandom(1)
        let model = Model(inputShape: [2, 2, 1]) {
            Flatten()
            Dense(4, 3)
        }
        model.compile(optimizer: Adam(learningRate: 0.05), loss: .softmaxCrossEntropy, metrics: [.accuracy])
        let (train, validation) = try Self.numbered(60).split(holdingOut: 0.25, seed: 2)
        let history = try model.fit(
            DataLoader(train, batchSize: 8, shuffle: true), validation: DataLoader(validation, batchSize: 16),
            epochs: 2, verbose: false)
        #expect(history["val_loss"].count == 2)
        #expect(try model.evaluate(DataLoader(validation, batchSize: 7))["loss"]! > 0)
    }
}
