import Foundation

/// The training loop behind `Model.fit`: batches, steps, metrics, validation and callbacks.
struct Trainer {
    let model: Model
    let optimizer: Optimizer
    let loss: any Loss
    let metrics: [any Metric]

    init(model: Model, optimizer: Optimizer, loss: any Loss, metrics: [any Metric]) {
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
    }

    mutating func fit(
        _ data: (x: Tensor, y: Tensor), validation: (x: Tensor, y: Tensor)?, batchSize: Int, epochs: Int,
        shuffle: Bool, generator: RandomGenerator, callbacks: [any Callback]
    ) -> History {
        var generator = generator
        let count = data.x.shape[0]
        let steps = (count + batchSize - 1) / batchSize
        let state = TrainingState(optimizer: optimizer, epochs: epochs, stepsPerEpoch: steps)
        var history = History()
        callbacks.forEach { $0.trainingWillBegin(state) }
        for epoch in 1...max(epochs, 1) where epochs > 0 && !state.shouldStop {
            state.epoch = epoch
            callbacks.forEach { $0.epochWillBegin(epoch, state) }
            var order = Array(0..<count)
            if shuffle { order.shuffle(using: &generator) }
            var totals = [Double](repeating: 0, count: metrics.count + 1)
            var seen = 0
            let start = Date()
            for step in 0..<steps where !state.shouldStop {
                let indices = Array(order[(step * batchSize)..<min((step + 1) * batchSize, count)])
                let x = data.x.gathering(indices)
                let y = data.y.gathering(indices)
                let (lossValue, predictions) = trainStep(x, y)
                seen += indices.count
                let weight = Double(indices.count)
                totals[0] += Double(lossValue) * weight
                for (i, metric) in metrics.enumerated() { totals[i + 1] += metric.value(predictions: predictions, targets: y) * weight }
                let logs = makeLogs(totals, samples: seen)
                callbacks.forEach { $0.batchDidEnd(step + 1, logs: logs, state) }
            }
            let seconds = Date().timeIntervalSince(start)
            let validationLogs = validation.map {
                Trainer.evaluate(model.network, loss: loss, metrics: metrics, x: $0.x, y: $0.y, batchSize: 256)
            }
            let record = History.Epoch(
                epoch: epoch, training: makeLogs(totals, samples: max(seen, 1)), validation: validationLogs,
                learningRate: optimizer.learningRate, seconds: seconds)
            history.epochs.append(record)
            callbacks.forEach { $0.epochDidEnd(record, state) }
        }
        callbacks.forEach { $0.trainingDidEnd(state) }
        return history
    }

    /// One optimizer step on a batch; returns the batch loss and the (detached) predictions.
    private func trainStep(_ x: Tensor, _ y: Tensor) -> (Float, Tensor) {
        optimizer.zeroGradients()
        let (value, predictions): (Float, Tensor) = withTrainingMode {
            let predictions = model.network(x)
            let batchLoss = loss(predictions, y)
            batchLoss.backward()
            return (batchLoss.item, predictions.detached())
        }
        optimizer.step()
        return (value, predictions)
    }

    private func makeLogs(_ totals: [Double], samples: Int) -> Logs {
        var logs = Logs()
        logs[loss.name] = totals[0] / Double(samples)
        for (i, metric) in metrics.enumerated() { logs[metric.name] = totals[i + 1] / Double(samples) }
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
