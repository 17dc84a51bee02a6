/// Whether operations are recorded on the tape, and whether layers run in training mode.
///
/// Both are scoped, never toggled flags on layers: `withoutGradient { }` for inference and
/// evaluation, `withTrainingMode { }` around a training step (dropout and batch norm read it).
/// The state belongs to the thread that trains; data-loading threads never record.
enum GradientMode {
    nonisolated(unsafe) static var isRecording = true
    nonisolated(unsafe) static var isTraining = false
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

/// Whether layers are running in training mode (see ``withTrainingMode(_:_:)``).
public var isTrainingMode: Bool { GradientMode.isTraining }
