/// Labelled samples that can be read by index: in memory (``TensorDataset``) or from disk on
/// demand (``ImageFolderDataset``). A ``DataLoader`` batches, shuffles, augments and prefetches them.
public protocol Dataset: Sendable {
    /// Number of samples.
    var count: Int { get }
    /// Shape of one input sample, e.g. [28, 28, 1].
    var inputShape: Shape { get }
    /// Shape of one target: [] for a class label.
    var targetShape: Shape { get }
    /// Copies sample `index` into `input` (inputShape.elementCount floats) and `target`.
    func read(_ index: Int, input: UnsafeMutableBufferPointer<Float>, target: UnsafeMutableBufferPointer<Float>) throws
    /// Copies the samples at `indices` into consecutive rows of `inputs` and `targets` (a batch);
    /// by default one ``read(_:input:target:)`` per sample.
    func read(_ indices: [Int], inputs: Tensor, targets: Tensor) throws
}

extension Dataset {
    /// Traps with a message unless the batch tensors hold `count` samples of this dataset's shapes.
    func checkBatch(_ count: Int, inputs: Tensor, targets: Tensor) {
        precondition(
            inputs.elementCount == count * inputShape.elementCount && targets.elementCount == count * targetShape.elementCount,
            "Dataset.read: \(count) samples of \(inputShape) and \(targetShape) do not fit batch tensors \(inputs.shape) and \(targets.shape)"
        )
    }

    public func read(_ indices: [Int], inputs: Tensor, targets: Tensor) throws {
        let inputSize = inputShape.elementCount
        let targetSize = targetShape.elementCount
        checkBatch(indices.count, inputs: inputs, targets: targets)
        for (slot, index) in indices.enumerated() {
            try read(
                index, input: UnsafeMutableBufferPointer(start: inputs.storage.pointer + slot * inputSize, count: inputSize),
                target: UnsafeMutableBufferPointer(start: targets.storage.pointer + slot * targetSize, count: targetSize))
        }
    }

    /// The target of sample `index` (its class label for classification data).
    public func target(at index: Int) throws -> [Float] {
        var input = [Float](repeating: 0, count: inputShape.elementCount)
        var target = [Float](repeating: 0, count: targetShape.elementCount)
        try input.withUnsafeMutableBufferPointer { i in try target.withUnsafeMutableBufferPointer { try read(index, input: i, target: $0) }
        }
        return target
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> SubsetDataset { SubsetDataset(base: self, indices: indices) }

    /// The same samples with `transform` applied to each input as it is read.
    public func map(_ transform: @escaping @Sendable (UnsafeMutableBufferPointer<Float>) -> Void) -> MappedDataset {
        MappedDataset(base: self, transform: transform)
    }

    /// Splits off a held-out part: `fraction` of the samples (rounded) go to the second dataset.
    /// With `stratified`, each class keeps its share in both parts (targets must be class labels).
    /// The assignment is fixed by `seed`.
    public func split(holdingOut fraction: Double, stratified: Bool = false, seed: UInt64 = 0) throws -> (
        kept: SubsetDataset, heldOut: SubsetDataset
    ) {
        guard fraction > 0 && fraction < 1 else {
            throw BackpropError.invalidArgument(name: "split fraction", expected: "a value in (0, 1)", found: "\(fraction)")
        }
        var generator = RandomGenerator(seed: seed)
        var kept: [Int] = []
        var heldOut: [Int] = []
        if stratified {
            guard targetShape.elementCount == 1 else {
                throw BackpropError.invalidArgument(
                    name: "stratified split", expected: "class-label targets", found: "targets of shape \(targetShape)")
            }
            var byClass: [Float: [Int]] = [:]
            for index in 0..<count { byClass[try target(at: index)[0], default: []].append(index) }
            for label in byClass.keys.sorted() {
                var members = byClass[label]!
                members.shuffle(using: &generator)
                let held = Int((Double(members.count) * fraction).rounded())
                heldOut += members.prefix(held)
                kept += members.dropFirst(held)
            }
            kept.sort()
            heldOut.sort()
        } else {
            var order = Array(0..<count)
            order.shuffle(using: &generator)
            let held = Int((Double(count) * fraction).rounded())
            heldOut = Array(order.prefix(held)).sorted()
            kept = Array(order.dropFirst(held)).sorted()
        }
        guard !kept.isEmpty && !heldOut.isEmpty else {
            throw BackpropError.invalidArgument(
                name: "split fraction", expected: "a split that leaves both parts non-empty", found: "\(fraction) of \(count) samples")
        }
        return (subset(kept), subset(heldOut))
    }

    /// Every sample stacked into two tensors [count] + inputShape and [count] + targetShape.
    public func materialized() throws -> (inputs: Tensor, targets: Tensor) {
        let inputs = Tensor.zeros(Shape([count] + inputShape.dimensions))
        let targets = Tensor.zeros(Shape([count] + targetShape.dimensions))
        let inputSize = inputShape.elementCount
        let targetSize = targetShape.elementCount
        for index in 0..<count {
            try read(
                index, input: UnsafeMutableBufferPointer(start: inputs.storage.pointer + index * inputSize, count: inputSize),
                target: UnsafeMutableBufferPointer(start: targets.storage.pointer + index * targetSize, count: targetSize))
        }
        return (inputs, targets)
    }
}

/// Samples held in two tensors: inputs [N, …] and targets [N] or [N, …].
public struct TensorDataset: Dataset {
    public let inputs: Tensor
    public let targets: Tensor

    public init(inputs: Tensor, targets: Tensor) {
        precondition(
            inputs.rank >= 1 && targets.rank >= 1 && inputs.shape[0] == targets.shape[0],
            "TensorDataset: \(inputs.shape) inputs and \(targets.shape) targets differ in sample count")
        self.inputs = inputs
        self.targets = targets
    }

    public var count: Int { inputs.shape[0] }
    public var inputShape: Shape { Shape(Array(inputs.shape.dimensions.dropFirst())) }
    public var targetShape: Shape { Shape(Array(targets.shape.dimensions.dropFirst())) }

    public func read(_ index: Int, input: UnsafeMutableBufferPointer<Float>, target: UnsafeMutableBufferPointer<Float>) throws {
        precondition(index >= 0 && index < count, "TensorDataset: index \(index) out of range 0..<\(count)")
        input.baseAddress!.update(from: inputs.storage.pointer + index * input.count, count: input.count)
        target.baseAddress!.update(from: targets.storage.pointer + index * target.count, count: target.count)
    }

    /// One gather per tensor on the backend (both threads copy rows).
    public func read(_ indices: [Int], inputs batchInputs: Tensor, targets batchTargets: Tensor) throws {
        checkBatch(indices.count, inputs: batchInputs, targets: batchTargets)
        for index in indices {
            precondition(index >= 0 && index < count, "TensorDataset: index \(index) out of range 0..<\(count)")
        }
        let backend = Backends.current
        backend.gather(
            outer: 1, axis: count, inner: inputShape.elementCount, inputs.storage, indices: indices, into: batchInputs.storage)
        backend.gather(
            outer: 1, axis: count, inner: targetShape.elementCount, targets.storage, indices: indices, into: batchTargets.storage)
    }
}

/// A view of some samples of another dataset.
public struct SubsetDataset: Dataset {
    public let base: any Dataset
    public let indices: [Int]

    public var count: Int { indices.count }
    public var inputShape: Shape { base.inputShape }
    public var targetShape: Shape { base.targetShape }

    public func read(_ index: Int, input: UnsafeMutableBufferPointer<Float>, target: UnsafeMutableBufferPointer<Float>) throws {
        try base.read(indices[index], input: input, target: target)
    }
}

/// Another dataset with a per-sample transform applied to each input as it is read.
public struct MappedDataset: Dataset {
    public let base: any Dataset
    let transform: @Sendable (UnsafeMutableBufferPointer<Float>) -> Void

    public var count: Int { base.count }
    public var inputShape: Shape { base.inputShape }
    public var targetShape: Shape { base.targetShape }

    public func read(_ index: Int, input: UnsafeMutableBufferPointer<Float>, target: UnsafeMutableBufferPointer<Float>) throws {
        try base.read(index, input: input, target: target)
        transform(input)
    }
}
