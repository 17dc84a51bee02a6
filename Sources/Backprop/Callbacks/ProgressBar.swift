import Foundation

/// Keras-style progress: `469/469 [==============================] - 3s 6ms/step - loss: 0.4512 -
/// accuracy: 0.8391 - val_loss: … - val_accuracy: …`. On a terminal the line updates in place (at
/// most ten times a second); otherwise one plain line per epoch is printed.
public final class ProgressBar: Callback {
    private let isTerminal: Bool
    private let output: (String) -> Void
    private var epochStart = Date()
    private var lastDraw = Date.distantPast

    /// - Parameters:
    ///   - isTerminal: redraw in place; defaults to whether standard output is a terminal.
    ///   - output: where lines go; standard output by default.
    public init(
        isTerminal: Bool = isatty(STDOUT_FILENO) == 1,
        output: @escaping (String) -> Void = { text in
            print(text, terminator: "")
            fflush(nil)
        }
    ) {
        self.isTerminal = isTerminal
        self.output = output
    }

    public func epochWillBegin(_ epoch: Int, _ state: TrainingState) {
        output("Epoch \(epoch)/\(state.epochs)\n")
        epochStart = Date()
        lastDraw = .distantPast
    }

    public func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState) {
        guard isTerminal else { return }
        let now = Date()
        guard batch == state.stepsPerEpoch || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(epochStart)
        let remaining = elapsed / Double(batch) * Double(state.stepsPerEpoch - batch)
        output("\r\u{1B}[K" + line(batch, state.stepsPerEpoch, "ETA: \(Self.seconds(remaining))", logs, state))
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        var logs = record.training
        if let validation = record.validation {
            for entry in validation.prefixed("val_").entries { logs[entry.name] = entry.value }
        }
        let perStep = record.seconds / Double(max(state.stepsPerEpoch, 1))
        let timing = "\(Self.seconds(record.seconds)) \(Int((perStep * 1000).rounded()))ms/step"
        output((isTerminal ? "\r\u{1B}[K" : "") + line(state.stepsPerEpoch, state.stepsPerEpoch, timing, logs, state) + "\n")
        if let reason = state.stopReason, state.shouldStop { output(reason + "\n") }
    }

    private func line(_ step: Int, _ total: Int, _ timing: String, _ logs: Logs, _ state: TrainingState) -> String {
        let width = 30
        let done = total > 0 ? step * width / total : width
        let bar =
            String(repeating: "=", count: max(0, done - 1)) + (done < width ? ">" : "=")
            + String(repeating: ".", count: width - done)
        let counter = String(repeating: " ", count: max(0, String(total).count - String(step).count)) + "\(step)/\(total)"
        let lr = String(format: "%.3g", state.optimizer.learningRate)
        return "\(counter) [\(bar)] - \(timing) - \(logs) - lr: \(lr)"
    }

    private static func seconds(_ value: Double) -> String {
        value >= 1 ? "\(Int(value.rounded()))s" : "\(Int((value * 1000).rounded()))ms"
    }
}
