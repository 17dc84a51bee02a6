import Foundation

/// Turns a ``Dataset`` into batches: a new seeded order every epoch, optional augmentation, and
/// the next batch prepared on a background thread while the current one trains.
///
/// ```swift
/// let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 1,
///                         augmentation: Augmentation(.horizontalFlip, .shift(2)))
/// try model.fit(loader, validation: DataLoader(validation, batchSize: 256), epochs: 5)
/// ```
/// The order and every random augmentation are fixed by (seed, epoch, batch), so a run repeats
/// exactly whatever the timing of the background thread.
public final class DataLoader: @unchecked Sendable {
    public let dataset: any Dataset
    public let batchSize: Int
    public let shuffle: Bool
    /// Drop the last batch of an epoch when it is smaller than the others.
    public let dropRemainder: Bool
    public let seed: UInt64
    public let augmentation: Augmentation?
    /// Prepare the next batch on a background thread.
    public let prefetch: Bool

    public init(
        _ dataset: any Dataset, batchSize: Int, shuffle: Bool = false, dropRemainder: Bool = false, seed: UInt64 = 0,
        augmentation: Augmentation? = nil, prefetch: Bool = true
    ) {
        precondition(batchSize > 0, "DataLoader: batch size must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropRemainder = dropRemainder
        self.seed = seed
        self.augmentation = augmentation
        self.prefetch = prefetch
    }

    /// Batches per epoch at `batchSize` (the loader's own by default).
    public func batchCount(batchSize: Int? = nil) -> Int {
        let size = max(batchSize ?? self.batchSize, 1)
        return dropRemainder ? dataset.count / size : (dataset.count + size - 1) / size
    }

    /// The batches of epoch `epoch` (1-based), from batch `startingAt` (0-based; a resumed run
    /// skips the ones it has done without reading them).
    public func batches(epoch: Int, batchSize: Int? = nil, startingAt first: Int = 0) -> BatchStream {
        let size = batchSize ?? self.batchSize
        precondition(size > 0, "DataLoader.batches: batch size must be positive, got \(size)")
        var order = Array(0..<dataset.count)
        if shuffle {
            var generator = RandomGenerator(seed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
            order.shuffle(using: &generator)
        }
        let count = batchCount(batchSize: size)
        let skipped = min(max(first, 0), count)
        let ranges = (0..<count).map { ($0 * size)..<min(($0 + 1) * size, order.count) }
        return BatchStream(count: count - skipped, prefetch: prefetch) { [self] index in
            try assemble(Array(order[ranges[index + skipped]]), epoch: epoch, batch: index + skipped)
        }
    }

    /// Reads the samples of one batch into fresh tensors and augments the inputs.
    func assemble(_ indices: [Int], epoch: Int, batch: Int) throws -> (inputs: Tensor, targets: Tensor) {
        let inputs = Tensor(uninitializedShape: Shape([indices.count] + dataset.inputShape.dimensions))
        let targets = Tensor(uninitializedShape: Shape([indices.count] + dataset.targetShape.dimensions))
        try dataset.read(indices, inputs: inputs, targets: targets)
        if let augmentation {
            var generator = RandomGenerator(seed: seed ^ (UInt64(epoch) << 32 | UInt64(batch)) &* 0xD1B5_4A32_D192_ED03)
            augmentation.apply(to: inputs, generator: &generator)
        }
        return (inputs, targets)
    }
}

/// The batches of one epoch, produced in order — on a background thread one batch ahead when
/// prefetching. Errors reading the data surface from ``next()``; after an error, or after
/// ``cancel()``, `next()` returns nil.
public final class BatchStream: @unchecked Sendable {
    /// Number of batches in the epoch.
    public let count: Int
    private let channel: PrefetchChannel?
    private let produce: (Int) throws -> (inputs: Tensor, targets: Tensor)
    private var nextIndex = 0
    private var stopped = false

    init(count: Int, prefetch: Bool, produce: @escaping (Int) throws -> (inputs: Tensor, targets: Tensor)) {
        self.count = count
        self.produce = produce
        if prefetch && count > 1 {
            // The thread holds only the channel, so dropping the stream cancels it.
            let channel = PrefetchChannel(count: count, produce: produce)
            self.channel = channel
            let thread = Thread { channel.run() }
            thread.name = "backprop-prefetch"
            thread.start()
        } else {
            channel = nil
        }
    }

    deinit { channel?.cancel() }

    /// Stops the background thread (at most one batch in progress is still completed).
    public func cancel() {
        stopped = true
        channel?.cancel()
    }

    /// The next batch, or nil after the last (or after an error or `cancel()`).
    public func next() throws -> (inputs: Tensor, targets: Tensor)? {
        guard !stopped, nextIndex < count else { return nil }
        let index = nextIndex
        nextIndex += 1
        do {
            if let channel {
                guard let batch = try channel.take(index) else {
                    stopped = true
                    return nil
                }
                return batch
            }
            return try produce(index)
        } catch {
            stopped = true
            throw error
        }
    }
}

/// The hand-over between the prefetch thread and the consumer: at most two batches ready ahead.
private final class PrefetchChannel: @unchecked Sendable {
    private let count: Int
    private let produce: (Int) throws -> (inputs: Tensor, targets: Tensor)
    private let condition = NSCondition()
    private var ready: [Int: (inputs: Tensor, targets: Tensor)] = [:]
    private var failure: (index: Int, error: Error)?
    private var cancelled = false
    private var finished = false

    init(count: Int, produce: @escaping (Int) throws -> (inputs: Tensor, targets: Tensor)) {
        self.count = count
        self.produce = produce
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// Batch `index`, waiting for it; nil when the producer stopped before making it; rethrows a
    /// read error at the index where it happened.
    func take(_ index: Int) throws -> (inputs: Tensor, targets: Tensor)? {
        condition.lock()
        defer { condition.unlock() }
        while ready[index] == nil && failure?.index != index && !finished && !cancelled { condition.wait() }
        if let batch = ready.removeValue(forKey: index) {
            condition.broadcast()
            return batch
        }
        if let failure, failure.index == index { throw failure.error }
        return nil
    }

    func run() {
        Backends.keepKernelsOnThisThread()
        defer {
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        for index in 0..<count {
            condition.lock()
            while !cancelled && ready.count >= 2 { condition.wait() }
            let stop = cancelled
            condition.unlock()
            if stop { return }
            do {
                let batch = try produce(index)
                condition.lock()
                ready[index] = batch
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                failure = (index, error)
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }
}
