import Foundation

/// The training loop behind `Model.fit`: batches, steps, penalties, metrics, validation and
/// callbacks.
struct Trainer {
    let model: Model
    let optimizer: Optimizer
    let loss: any Loss
    let metrics: [any Metric]

    func fit(
        _ data: DataLoader, validation: DataLoader?, epochs: Int, callbacks: [any Callback], log: @escaping (String) -> Void
    ) throws -> History {
        let state = TrainingState(
            model: model, optimizer: optimizer, epochs: epochs, sampleCount: data.dataset.count, batchSize: data.batchSize,
            dropsRemainder: data.dropRemainder)
        state.log = log
        let recorder = HistoryRecorder()
        let callbacks = [recorder] + callbacks
        for callback in callbacks { callback.trainingWillBegin(state) }
        try Interruption.duringTraining { try runEpochs(data, validation: validation, epochs: epochs, callbacks: callbacks, state: state) }
        for callback in callbacks { callback.trainingDidEnd(state) }
        return recorder.history
    }

    private func runEpochs(
        _ data: DataLoader, validation: DataLoader?, epochs: Int, callbacks: [any Callback], state: TrainingState
    ) throws {
        let hasPenalty = model.network.parameters.contains { $0.regularizer != nil }
        for epoch in 1...max(epochs, 1) {
            guard epochs > 0, !state.shouldStop else { break }
            state.epoch = epoch
            for callback in callbacks { callback.epochWillBegin(epoch, state) }
            let batch = state.batchSize
            let stream = data.batches(epoch: epoch, batchSize: batch)
            defer { stream.cancel() }
            var totals = [Double](repeating: 0, count: metrics.count + 2)
            var seen = 0
            var step = 0
            let start = Date()
            while !state.shouldStop, let (x, y) = try stream.next() {
                step += 1
                for callback in callbacks { callback.batchWillBegin(step, state) }
                state.lastBatch = (x, y)
                let (dataLoss, penalty, predictions) = trainStep(x, y)
                state.globalStep += 1
                let size = x.shape[0]
                state.samplesSeen += size
                seen += size
                let weight = Double(size)
                totals[0] += Double(dataLoss + penalty) * weight
                totals[1] += Double(penalty) * weight
                for (i, metric) in metrics.enumerated() { totals[i + 2] += metric.value(predictions: predictions, targets: y) * weight }
                let logs = makeLogs(totals, samples: seen, penalty: hasPenalty)
                for callback in callbacks { callback.batchDidEnd(step, logs: logs, state) }
                if let signal = Interruption.signal, !state.shouldStop {
                    state.stop("Interrupted by \(Interruption.name(of: signal)) at epoch \(epoch), step \(step)")
                }
            }
            let seconds = Date().timeIntervalSince(start)
            let validationLogs = try validation.map { try Trainer.evaluate(model.network, loss: loss, metrics: metrics, data: $0) }
            let record = History.Epoch(
                epoch: epoch, training: makeLogs(totals, samples: max(seen, 1), penalty: hasPenalty),
                validation: validationLogs, learningRate: optimizer.learningRate, seconds: seconds, batchSize: batch)
            for callback in callbacks { callback.epochDidEnd(record, state) }
        }
    }

    /// One optimizer step on a batch; returns the data loss, the penalty and the (detached)
    /// predictions. A step whose loss is NaN or infinite is not applied, so the parameters keep
    /// their last finite values (TerminateOnNaN can then name the layer that broke).
    private func trainStep(_ x: Tensor, _ y: Tensor) -> (Float, Float, Tensor) {
        optimizer.zeroGradients()
        let result: (Float, Float, Tensor) = withTrainingMode {
            let predictions = model.network(x)
            let dataLoss = loss(predictions, y)
            if let penalty = model.network.regularizationPenalty() {
                (dataLoss + penalty).backward()
                return (dataLoss.item, penalty.item, predictions.detached())
            }
            dataLoss.backward()
            return (dataLoss.item, 0, predictions.detached())
        }
        if (result.0 + result.1).isFinite { optimizer.step() }
        return result
    }

    private func makeLogs(_ totals: [Double], samples: Int, penalty: Bool) -> Logs {
        var logs = Logs()
        logs[loss.name] = totals[0] / Double(samples)
        if penalty { logs["penalty"] = totals[1] / Double(samples) }
        for (i, metric) in metrics.enumerated() { logs[metric.name] = totals[i + 2] / Double(samples) }
        return logs
    }

    /// Sample-weighted mean loss and metrics over the loader's batches in inference mode.
    static func evaluate(_ network: any Layer, loss: any Loss, metrics: [any Metric], data: DataLoader) throws -> Logs {
        var totals = [Double](repeating: 0, count: metrics.count + 1)
        var count = 0
        let stream = data.batches(epoch: 0)
        defer { stream.cancel() }
        try withoutGradient {
            while let (x, y) = try stream.next() {
                let predictions = network(x)
                let weight = Double(x.shape[0])
                count += x.shape[0]
                totals[0] += Double(loss(predictions, y).item) * weight
                for (i, metric) in metrics.enumerated() { totals[i + 1] += metric.value(predictions: predictions, targets: y) * weight }
            }
        }
        var logs = Logs()
        logs[loss.name] = totals[0] / Double(max(count, 1))
        for (i, metric) in metrics.enumerated() { logs[metric.name] = totals[i + 1] / Double(max(count, 1)) }
        return logs
    }
}
