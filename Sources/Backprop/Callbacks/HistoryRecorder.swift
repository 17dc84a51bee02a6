/// Records every epoch into a ``History`` (Keras's History callback). `fit` always runs one and
/// returns its history.
public final class HistoryRecorder: StatefulCallback {
    /// The epochs recorded so far.
    public private(set) var history = History()

    public init() {}

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        history.epochs.append(record)
    }
}

extension HistoryRecorder {
    public func state() -> ComponentState { ComponentState(history) }

    public func restore(_ saved: ComponentState, model: Model, source: String) throws {
        history = try saved.decode(History.self, source: source, component: "the history")
    }
}
