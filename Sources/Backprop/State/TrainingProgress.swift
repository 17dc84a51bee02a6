/// Where a run is: the position in the data order and the running figures of the current epoch,
/// and the training thread's random generator (dropout). With the model, optimizer and callback
/// states it is all a resumed run needs to continue bit for bit.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// The current epoch (1-based; 0 before the first).
    public var epoch: Int
    /// Steps done in that epoch.
    public var stepsDone: Int
    /// Whether the epoch's end (validation, the epoch callbacks) has run too, so a resumed run
    /// starts the next epoch.
    public var epochComplete: Bool
    /// Optimizer steps since training began.
    public var globalStep: Int
    /// Training samples since training began.
    public var samplesSeen: Int
    /// Training samples per epoch (a resumed run must have as many).
    public var sampleCount: Int
    /// Samples per step in the current epoch (batch-size schedules change it).
    public var batchSize: Int
    /// The epoch's running sums (loss, penalty, metrics; sample-weighted) and its samples so far.
    public var epochTotals: [Double]
    public var epochSamples: Int
    /// Seconds spent in the epoch's steps so far.
    public var epochSeconds: Double
    /// Why a callback stopped the run (early stopping), if one did: a resumed run stays stopped.
    public var stopReason: String?
    /// The training thread's generator (``GlobalRandom``), as four words.
    var random: [HexWord]

    /// The generator the run continues with.
    public var randomGenerator: RandomGenerator? { RandomGenerator(stateWords: random.map(\.value)) }
}

/// A point of the loop at which the run's state is complete and can be saved: after every
/// callback has handled a step or an epoch, or when a signal stops training between steps.
public enum TrainingBoundary: Sendable {
    case step
    case epoch
    case interruption
}
