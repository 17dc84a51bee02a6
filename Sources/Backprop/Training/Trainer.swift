import Foundation

/// The training loop behind `Model.fit`: batches, steps, penalties, metrics, validation and
/// callbacks.
struct Trainer {
    let model: Model
    let optimizer: Optimizer
    let loss: any Loss
    let metrics: [any Metric]

    func fit(
        _ data: (x: Tensor, y: Tensor), validation: (x: Tensor, y: Tensor)?, batchSize: Int, epochs: Int,
        shuffle: Bool, generator: RandomGenerator, callbacks: [any Callback]
    ) -> History {
        var generator = generator
        let count = data.x.shape[0]
        let state = TrainingState(model: model, optimizer: optimizer, epochs: epochs, sampleCount: count, batchSize: batchSize)
        let recorder = HistoryRecorder()
        let callbacks = [recorder] + callbacks
        let hasPenalty = model.network.regularizationPenalty() != nil
        callbacks.forEach { $0.trainingWillBegin(state) }
        for epoch in 1...max(epochs, 1) where epochs > 0 && !state.shouldStop {
            state.epoch = epoch
            callbacks.forEach { $0.epochWillBegin(epoch, state) }
            var order = Array(0..<count)
            if shuffle { order.shuffle(using: &generator) }
            let batch = state.batchSize, steps = state.stepsPerEpoch
            var totals = [Double](repeating: 0, count: metrics.count + 2)
            var seen = 0
            let start = Date()
            for step in 0..<steps where !state.shouldStop {
                callbacks.forEach { $0.batchWillBegin(step + 1, state) }
                let indices = Array(order[(step * batch)..<min((step + 1) * batch, count)])
                let x = data.x.gathering(indices)
                let y = data.y.gathering(indices)
                state.lastBatch = (x, y)
                let (dataLoss, penalty, predictions) = trainStep(x, y)
                state.globalStep += 1
                seen += indices.count
                let weight = Double(indices.count)
                totals[0] += Double(dataLoss + penalty) * weight
                totals[1] += Double(penalty) * weight
                for (i, metric) in metrics.enumerated() { totals[i + 2] += metric.value(predictions: predictions, targets: y) * weight }
                let logs = makeLogs(totals, samples: seen, penalty: hasPenalty)
                callbacks.forEach { $0.batchDidEnd(step + 1, logs: logs, state) }
            }
            let seconds = Date().timeIntervalSince(start)
            let validationLogs = validation.map {
                Trainer.evaluate(model.network, loss: loss, metrics: metrics, x: $0.x, y: $0.y, batchSize: 256)
            }
            let record = History.Epoch(
                epoch: epoch, training: makeLogs(totals, samples: max(seen, 1), penalty: hasPenalty),
                validation: validationLogs, learningRate: optimizer.learningRate, seconds: seconds, batchSize: batch)
            callbacks.forEach { $0.epochDidEnd(record, state) }
        }
        callbacks.forEach { $0.trainingDidEnd(state) }
        return recorder.history
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

    /// Sample-weighted mean loss and metrics over (x, y) in inference mode.
    static func evaluate(
        _ network: any Layer, loss: any Loss, metrics: [any Metric], x: Tensor, y: Tensor, batchSize: Int
    ) -> Logs {
        let count = x.shape[0]
        var totals = [Double](repeating: 0, count: metrics.count + 1)
        withoutGradient {
            for start in stride(from: 0, to: count, by: batchSize) {
                let range = start..<min(start + batchSize, count)
                let xb = x.slice([range]), yb = y.slice([range])
                let predictions = network(xb)
                let weight = Double(range.count)
                totals[0] += Double(loss(predictions, yb).item) * weight
                for (i, metric) in metrics.enumerated() { totals[i + 1] += metric.value(predictions: predictions, targets: yb) * weight }
            }
        }
        var logs = Logs()
        logs[loss.name] = totals[0] / Double(max(count, 1))
        for (i, metric) in metrics.enumerated() { logs[metric.name] = totals[i + 1] / Double(max(count, 1)) }
        return logs
    }
}
