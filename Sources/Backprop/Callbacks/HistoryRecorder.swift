/// Records every epoch into a ``History`` (Keras's History callback). `fit` always runs one and
/// returns its history.
public final class HistoryRecorder: Callback {
    /// The epochs recorded so far.
    public private(set) var history = History()

    public init() {}

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        history.epochs.append(record)
    }
}
