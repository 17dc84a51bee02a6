/// Whether a monitored value should go down or up.
public enum MonitorMode: String, Sendable, Codable {
    /// Lower is better (losses).
    case min
    /// Higher is better (accuracies).
    case max
    /// `max` for names containing "acc", `min` otherwise (as Keras).
    case auto
}

/// The shared logic of callbacks that watch one logged value (EarlyStopping, ReduceLROnPlateau,
/// batch-size growth on plateau): which value, which direction is better, by how much.
public struct Monitor: Sendable, Codable, Equatable {
    /// The logged name, e.g. `val_loss` or `accuracy`.
    public let name: String
    /// The resolved direction (never `auto`).
    public let mode: MonitorMode
    /// The least change that counts as an improvement.
    public let minDelta: Double
    /// The best value seen.
    public private(set) var best: Double?

    public init(_ name: String, mode: MonitorMode = .auto, minDelta: Double = 0) {
        self.name = name
        self.mode = mode == .auto ? (name.contains("acc") ? .max : .min) : mode
        self.minDelta = abs(minDelta)
    }

    /// The monitored value in `record`, trapping with the available names when it is absent.
    public func value(in record: History.Epoch) -> Double {
        guard let value = record.value(name) else {
            let available = record.training.entries.map(\.name) + (record.validation?.entries.map { "val_" + $0.name } ?? [])
            preconditionFailure("Monitor: '\(name)' is not logged; available: \(available.joined(separator: ", "))")
        }
        return value
    }

    /// Whether `value` beats the best so far by more than `minDelta`; if so it becomes the best.
    public mutating func improves(_ value: Double) -> Bool {
        guard let best else {
            self.best = value
            return true
        }
        let better = mode == .min ? value < best - minDelta : value > best + minDelta
        if better { self.best = value }
        return better
    }

    /// This monitor with the best value of `saved`, which must watch the same value the same way.
    ///
    /// - Throws: ``BackpropError`` naming `source` and `component` when it does not.
    public func restored(from saved: Monitor, source: String, component: String) throws -> Monitor {
        guard saved.name == name, saved.mode == mode else {
            throw BackpropError.malformed(
                path: source, field: "state of \(component)", expected: "a monitor of \(name) (\(mode.rawValue))",
                found: "\(saved.name) (\(saved.mode.rawValue))")
        }
        var monitor = self
        monitor.best = saved.best
        return monitor
    }
}
