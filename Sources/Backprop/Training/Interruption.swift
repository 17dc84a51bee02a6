import CBackpropKernels

/// Ends a run cleanly on SIGINT, SIGTERM or SIGQUIT. After ``installHandlers()``, the first signal
/// during `fit` stops training after the current step (the model and its state stay consistent,
/// and `fit` returns normally with ``signal`` set); a second signal, or a signal outside training,
/// exits at once with status 128 + the signal number. Nothing is printed as a crash report.
public enum Interruption {
    /// Installs the handlers (the CLI does this once at start).
    public static func installHandlers() { bp_install_stop_handlers() }

    /// The signal number that stopped training, or nil.
    public static var signal: Int32? {
        let number = bp_stop_signal()
        return number == 0 ? nil : number
    }

    /// The signal's name, e.g. `SIGINT`.
    public static func name(of signal: Int32) -> String {
        switch signal {
        case 2: "SIGINT"
        case 3: "SIGQUIT"
        case 15: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    /// Marks the span of a training loop, during which a signal stops training instead of exiting.
    static func duringTraining<R>(_ body: () throws -> R) rethrows -> R {
        bp_set_training_active(1)
        defer { bp_set_training_active(0) }
        return try body()
    }
}

extension Backends {
    /// Sets how many threads the kernels and oneDNN use on this thread (OpenMP); false when no
    /// OpenMP runtime is loaded.
    @discardableResult
    public static func setThreadCount(_ count: Int) -> Bool {
        precondition(count >= 1, "setThreadCount: count must be ≥ 1, got \(count)")
        return bp_set_thread_count(Int32(clamping: count)) == 1
    }

    /// Threads the kernels use.
    public static var threadCount: Int { Int(bp_thread_count()) }
}
