import CBackpropKernels

/// Whether operations are recorded on the tape, and whether layers run in training mode.
///
/// Both are scoped, never toggled flags on layers: `withoutGradient { }` for inference and
/// evaluation, `withTrainingMode { }` around a training step (dropout and batch norm read it).
/// Both are per thread (as PyTorch's grad mode), so concurrent work on other threads — tests,
/// data loading, parallel trials — never changes what this thread records.
enum GradientMode {
    private static let recordingOff: Int32 = 1
    private static let training: Int32 = 2
    private static let recordingOutputs: Int32 = 4

    static var isRecording: Bool {
        get { bp_thread_mode() & recordingOff == 0 }
        set { set(recordingOff, !newValue) }
    }

    static var isTraining: Bool {
        get { bp_thread_mode() & training != 0 }
        set { set(training, newValue) }
    }

    /// Whether `Sequential` keeps each layer's output (``LayerOutputRecording``); one load of a
    /// thread-local word per layer when off.
    static var isRecordingOutputs: Bool {
        get { bp_thread_mode() & recordingOutputs != 0 }
        set { set(recordingOutputs, newValue) }
    }

    private static func set(_ bit: Int32, _ on: Bool) {
        let mode = bp_thread_mode()
        bp_set_thread_mode(on ? mode | bit : mode & ~bit)
    }
}

/// Runs `body` with recording off: no operation inside builds tape entries or saves tensors.
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    let saved = GradientMode.isRecording
    GradientMode.isRecording = false
    defer { GradientMode.isRecording = saved }
    return try body()
}

/// Runs `body` in training mode (dropout active, batch norm using batch statistics).
public func withTrainingMode<R>(_ enabled: Bool = true, _ body: () throws -> R) rethrows -> R {
    let saved = GradientMode.isTraining
    GradientMode.isTraining = enabled
    defer { GradientMode.isTraining = saved }
    return try body()
}

/// Whether layers are running in training mode on this thread (see ``withTrainingMode(_:_:)``).
public var isTrainingMode: Bool { GradientMode.isTraining }
