import Foundation

/// The training loop behind `Model.fit`: batches, steps, penalties, metrics, validation and
/// callbacks.
struct Trainer {
    let model: Model
    let optimizer: Optimizer
    let loss: any Loss
    let metrics: [any Metric]

    /// Trains from the beginning, or from `checkpoint` (restored into the model, the optimizer,
    /// the callbacks and this thread's random generator first).
    func fit(
        _ data: DataLoader, validation: DataLoader?, epochs: Int, callbacks: [any Callback], log: @escaping (String) -> Void,
        resumingFrom checkpoint: (TrainingCheckpoint, source: String)? = nil
    ) throws -> History {
        let state = TrainingState(
            model: model, optimizer: optimizer, epochs: epochs, sampleCount: data.dataset.count, batchSize: data.batchSize,
            dropsRemainder: data.dropRemainder)
        state.log = log
        let recorder = HistoryRecorder()
        let callbacks = [recorder] + callbacks
        state.callbacks = callbacks
        state.epochTotals = [Double](repeating: 0, count: metrics.count + 2)
        if let (checkpoint, source) = checkpoint { try state.restore(checkpoint, source: source) }
        for callback in callbacks { callback.trainingWillBegin(state) }
        try Interruption.duringTraining { try runEpochs(data, validation: validation, epochs: epochs, callbacks: callbacks, state: state) }
        for callback in callbacks { callback.trainingDidEnd(state) }
        return recorder.history
    }

    private func runEpochs(
        _ data: DataLoader, validation: DataLoader?, epochs: Int, callbacks: [any Callback], state: TrainingState
    ) throws {
        let hasPenalty = model.network.parameters.contains { $0.regularizer != nil }
        // A resumed run continues inside its epoch, or starts the next one.
        let resumesInside = state.epoch > 0 && !state.epochComplete
        let first = state.epoch == 0 ? 1 : (resumesInside ? state.epoch : state.epoch + 1)
        guard epochs > 0, first <= epochs else { return }
        for epoch in first...epochs {
            guard !state.shouldStop else { break }
            let resumed = resumesInside && epoch == first
            if !resumed {
                state.stepsDoneInEpoch = 0
                state.epochTotals = state.epochTotals.map { _ in 0 }
                state.epochSamples = 0
                state.epochSeconds = 0
            }
            state.epoch = epoch
            state.epochComplete = false
            for callback in callbacks { callback.epochWillBegin(epoch, state) }
            let batch = state.batchSize
            let stream = data.batches(epoch: epoch, batchSize: batch, startingAt: state.stepsDoneInEpoch)
            defer { stream.cancel() }
            var step = state.stepsDoneInEpoch
            let start = Date()
            let secondsBefore = state.epochSeconds
            while !state.shouldStop, let (x, y) = try stream.next() {
                step += 1
                for callback in callbacks { callback.batchWillBegin(step, state) }
                state.lastBatch = (x, y)
                let (dataLoss, penalty, predictions) = trainStep(x, y, callbacks: callbacks, state: state)
                state.globalStep += 1
                let size = x.shape[0]
                state.samplesSeen += size
                state.stepsDoneInEpoch = step
                state.epochSamples += size
                let weight = Double(size)
                state.epochTotals[0] += Double(dataLoss + penalty) * weight
                state.epochTotals[1] += Double(penalty) * weight
                for (i, metric) in metrics.enumerated() {
                    state.epochTotals[i + 2] += metric.value(predictions: predictions, targets: y) * weight
                }
                state.epochSeconds = secondsBefore + Date().timeIntervalSince(start)
                let logs = makeLogs(state.epochTotals, samples: state.epochSamples, penalty: hasPenalty)
                for callback in callbacks { callback.batchDidEnd(step, logs: logs, state) }
                if let signal = Interruption.signal, !state.shouldStop {
                    state.interruption = signal
                    state.stop("Interrupted by \(Interruption.name(of: signal)) at epoch \(epoch), step \(step)")
                }
                for callback in callbacks { callback.boundaryReached(state.interruption == nil ? .step : .interruption, state) }
            }
            // An interrupted epoch ends where it stopped; a resumed run finishes it.
            guard state.interruption == nil else { break }
            let keeps = callbacks.contains { $0.wantsValidationPredictions }
            state.validationPredictions = nil
            let validationLogs = try validation.map { data in
                try Trainer.evaluate(model.network, loss: loss, metrics: metrics, data: data, keep: keeps) { inputs, outputs, targets in
                    state.validationPredictions = (inputs, outputs, targets)
                }
            }
            let record = History.Epoch(
                epoch: epoch, training: makeLogs(state.epochTotals, samples: max(state.epochSamples, 1), penalty: hasPenalty),
                validation: validationLogs, learningRate: optimizer.learningRate, seconds: state.epochSeconds, batchSize: batch)
            for callback in callbacks { callback.epochDidEnd(record, state) }
            state.epochComplete = true
            for callback in callbacks { callback.boundaryReached(.epoch, state) }
        }
    }

    /// One optimizer step on a batch, through the callbacks' stages; returns the data loss, the
    /// penalty and the (detached) predictions. A step whose loss is NaN or infinite is not
    /// applied, so the parameters keep their last finite values (TerminateOnNaN can then name the
    /// layer that broke).
    private func trainStep(_ x: Tensor, _ y: Tensor, callbacks: [any Callback], state: TrainingState) -> (Float, Float, Tensor) {
        optimizer.zeroGradients()
        let step = state.globalStep + 1
        let records = callbacks.contains { $0.wantsLayerOutputs(atStep: step) }
        let result: (Float, Float, Tensor) = withTrainingMode {
            let (predictions, recorded) =
                records ? LayerOutputRecording.recording { model.network(x) } : (model.network(x), [])
            let dataLoss = loss(predictions, y)
            let penalty = model.network.regularizationPenalty()
            let pass = ForwardPass(
                inputs: x, targets: y, predictions: predictions, loss: dataLoss.item,
                layerOutputs: records ? model.layerOutputs(recorded, output: predictions) : [])
            for callback in callbacks { callback.forwardDidEnd(pass, state) }
            if let penalty {
                (dataLoss + penalty).backward()
                return (pass.loss, penalty.item, predictions.detached())
            }
            dataLoss.backward()
            return (pass.loss, 0, predictions.detached())
        }
        for callback in callbacks { callback.gradientsReady(state) }
        state.lastStepApplied = (result.0 + result.1).isFinite
        if state.lastStepApplied { optimizer.step() }
        for callback in callbacks { callback.stepDidEnd(state) }
        return result
    }

    private func makeLogs(_ totals: [Double], samples: Int, penalty: Bool) -> Logs {
        var logs = Logs()
        logs[loss.name] = totals[0] / Double(samples)
        if penalty { logs["penalty"] = totals[1] / Double(samples) }
        for (i, metric) in metrics.enumerated() { logs[metric.name] = totals[i + 2] / Double(samples) }
        return logs
    }

    /// Sample-weighted mean loss and metrics over the loader's batches in inference mode; with
    /// `keep`, `kept` receives all inputs, outputs and targets in order.
    static func evaluate(
        _ network: any Layer, loss: any Loss, metrics: [any Metric], data: DataLoader, keep: Bool = false,
        kept: (Tensor, Tensor, Tensor) -> Void = { _, _, _ in }
    ) throws -> Logs {
        var (inputs, outputs, targets): ([Tensor], [Tensor], [Tensor]) = ([], [], [])
        var totals = [Double](repeating: 0, count: metrics.count + 1)
        var count = 0
        let stream = data.batches(epoch: 0)
        defer { stream.cancel() }
        try withoutGradient {
            while let (x, y) = try stream.next() {
                let predictions = network(x)
                if keep {
                    inputs.append(x)
                    outputs.append(predictions)
                    targets.append(y)
                }
                let weight = Double(x.shape[0])
                count += x.shape[0]
                totals[0] += Double(loss(predictions, y).item) * weight
                for (i, metric) in metrics.enumerated() { totals[i + 1] += metric.value(predictions: predictions, targets: y) * weight }
            }
        }
        if keep, !outputs.isEmpty {
            kept(
                Tensor.concatenate(inputs, alongAxis: 0), Tensor.concatenate(outputs, alongAxis: 0),
                Tensor.concatenate(targets, alongAxis: 0))
        }
        var logs = Logs()
        logs[loss.name] = totals[0] / Double(max(count, 1))
        for (i, metric) in metrics.enumerated() { logs[metric.name] = totals[i + 1] / Double(max(count, 1)) }
        return logs
    }
}
