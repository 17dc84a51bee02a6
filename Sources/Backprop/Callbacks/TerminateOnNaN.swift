/// Stops training at the first step whose loss is NaN or infinite, naming the step and the first
/// layer whose output went non-finite (found by re-running that batch layer by layer).
public final class TerminateOnNaN: Callback {
    /// The message given when training was stopped.
    public private(set) var report: String?

    public init() {}

    public func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState) {
        guard let loss = logs["loss"], !loss.isFinite else { return }
        var message = "Terminated on non-finite loss at step \(state.globalStep) (epoch \(state.epoch), batch \(batch))"
        if let culprit = firstNonFiniteLayer(state) { message += ": \(culprit)" }
        report = message
        state.stop(message)
    }

    private func firstNonFiniteLayer(_ state: TrainingState) -> String? {
        guard let batch = state.lastBatch else { return nil }
        if let bad = state.model.namedParameters.first(where: { !$0.parameter.value.scalars.allSatisfy(\.isFinite) }) {
            return "parameter \(bad.name) holds non-finite values"
        }
        if !batch.inputs.scalars.allSatisfy(\.isFinite) { return "the input batch holds non-finite values" }
        // One pass recording every layer's output (nested ones too, by the model walk's paths).
        let outputs = withoutGradient {
            withTrainingMode {
                let (output, recorded) = LayerOutputRecording.recording { state.model.network(batch.inputs) }
                return state.model.layerOutputs(recorded, output: output)
            }
        }
        if let bad = outputs.first(where: { !$0.output.scalars.allSatisfy(\.isFinite) }) {
            return "first non-finite output at \(bad.path.isEmpty ? "the network" : bad.path) (\(bad.layer.typeName))"
        }
        return "every layer's output is finite; the loss itself overflowed"
    }
}
