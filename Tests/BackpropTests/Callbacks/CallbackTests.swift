import Backprop
import Foundation
import Testing

struct CallbackTests {
    static func tinyProblem() -> (Model, Tensor, Tensor) {
        seedGlobalRandom(3)
        let model = Model(inputShape: [4]) {
            Dense(4, 8, activation: .tanh)
            Dense(8, 2)
        }
        var generator = RandomGenerator(seed: 4)
        let x = Tensor.randomNormal([40, 4], generator: &generator)
        let y = Tensor((0..<40).map { Float($0 % 2) })
        return (model, x, y)
    }

    static func record(_ epoch: Int, valLoss: Double) -> History.Epoch {
        var training = Logs()
        var validation = Logs()
        training["loss"] = 1
        validation["loss"] = valLoss
        return History.Epoch(epoch: epoch, training: training, validation: validation, learningRate: 0, seconds: 0, batchSize: 1)
    }

    @Test func reduceLROnPlateauFollowsKerasRules() {
        let (model, _, _) = Self.tinyProblem()
        let optimizer = SGD(learningRate: 1)
        model.compile(optimizer: optimizer, loss: .softmaxCrossEntropy)
        let state = TrainingState(model: model, optimizer: optimizer, epochs: 10, sampleCount: 1, batchSize: 1)
        let callback = ReduceLROnPlateau(monitor: "val_loss", factor: 0.5, patience: 2, cooldown: 1, minLearningRate: 0.2, verbose: false)
        // Epoch:        1    2    3    4    5    6    7    8    9    10
        let losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8]
        var rates: [Float] = []
        for (index, loss) in losses.enumerated() {
            callback.epochDidEnd(Self.record(index + 1, valLoss: loss), state)
            rates.append(optimizer.learningRate)
        }
        // Keras's rules: flat after epoch 2, so waits 3, 4 → reduce at 4 and start a cooldown of 1.
        // Epoch 5 uses up the cooldown and, no longer in it, counts wait 1; epoch 6 → reduce.
        // Epoch 7 likewise; epoch 8 → reduce, clipped at the floor 0.2; 9 improves; 10 waits.
        #expect(callback.reductions == [4, 6, 8])
        #expect(rates == [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2])
    }

    @Test func reduceLROnPlateauRespectsTheFloor() {
        let (model, _, _) = Self.tinyProblem()
        let optimizer = SGD(learningRate: 1)
        model.compile(optimizer: optimizer, loss: .softmaxCrossEntropy)
        let state = TrainingState(model: model, optimizer: optimizer, epochs: 10, sampleCount: 1, batchSize: 1)
        let callback = ReduceLROnPlateau(factor: 0.1, patience: 0, minLearningRate: 0.05, verbose: false)
        for epoch in 1...5 { callback.epochDidEnd(Self.record(epoch, valLoss: 1), state) }
        #expect(optimizer.learningRate == 0.05)
    }

    @Test func earlyStoppingStopsAndRestoresTheBestWeights() {
        let (model, _, _) = Self.tinyProblem()
        let optimizer = SGD(learningRate: 1)
        model.compile(optimizer: optimizer, loss: .softmaxCrossEntropy)
        let state = TrainingState(model: model, optimizer: optimizer, epochs: 10, sampleCount: 1, batchSize: 1)
        let callback = EarlyStopping(monitor: "val_loss", patience: 1, restoreBestWeights: true)
        let weight = model.namedParameters[0].parameter
        var bestWeights: [Float] = []
        for (epoch, loss) in [0.9, 0.5, 0.6, 0.7].enumerated() {
            weight.assign(Tensor(repeating: Float(epoch), shape: weight.shape))
            if loss == 0.5 { bestWeights = weight.value.scalars }
            callback.epochDidEnd(Self.record(epoch + 1, valLoss: loss), state)
            if state.shouldStop { break }
        }
        // Keras's rule: stop once `patience` epochs in a row have not improved, so with patience 1
        // the first epoch after the best (epoch 3) stops training.
        #expect(state.shouldStop)
        #expect(callback.stoppedEpoch == 3 && callback.bestEpoch == 2)
        #expect(weight.value.scalars == bestWeights)
        #expect(state.stopReason?.contains("val_loss") == true)
    }

    /// Keras (`keras.callbacks.EarlyStopping`): `wait += 1; if wait >= patience: stop`. Worked by
    /// hand for patience 2 on val_loss 1.0, 0.8, 0.9, 0.85, 0.7: epochs 3 and 4 do not improve on
    /// 0.8, so training stops after epoch 4 and never sees epoch 5.
    @Test func earlyStoppingFollowsKerasPatience() {
        let (model, _, _) = Self.tinyProblem()
        let optimizer = SGD(learningRate: 1)
        model.compile(optimizer: optimizer, loss: .softmaxCrossEntropy)
        for (patience, expected) in [(0, 3), (2, 4), (3, nil)] as [(Int, Int?)] {
            let state = TrainingState(model: model, optimizer: optimizer, epochs: 10, sampleCount: 1, batchSize: 1)
            let callback = EarlyStopping(monitor: "val_loss", patience: patience)
            for (epoch, loss) in [1.0, 0.8, 0.9, 0.85, 0.7].enumerated() where !state.shouldStop {
                callback.epochDidEnd(Self.record(epoch + 1, valLoss: loss), state)
            }
            #expect(callback.stoppedEpoch == expected, "patience \(patience)")
        }
    }

    @Test func learningRateSchedulerDrivesTheOptimizerDuringFit() {
        let (model, x, y) = Self.tinyProblem()
        model.compile(optimizer: SGD(learningRate: 1), loss: .softmaxCrossEntropy)
        let schedule = LearningRateSchedule.piecewise(boundaries: [1, 2], values: [0.3, 0.2, 0.1])
        let history = model.fit(x, y, batchSize: 10, epochs: 3, callbacks: [LearningRateScheduler(schedule, unit: .epoch)], verbose: false)
        #expect(history.learningRates == [0.3, 0.2, 0.1])
        let (stepModel, _, _) = Self.tinyProblem()
        stepModel.compile(optimizer: SGD(learningRate: 1), loss: .softmaxCrossEntropy)
        let perStep = stepModel.fit(
            x, y, batchSize: 10, epochs: 2, callbacks: [LearningRateScheduler(.linear(initial: 1, final: 0, steps: 8))], verbose: false)
        #expect(perStep.learningRates == [0.625, 0.125])  // steps 3 and 7 of 8
    }

    @Test func batchSizeSchedulerGrowsTheBatchAtMilestones() {
        let (model, x, y) = Self.tinyProblem()
        model.compile(optimizer: SGD(learningRate: 0.1), loss: .softmaxCrossEntropy)
        let scheduler = BatchSizeScheduler(.milestones([2: 16, 3: 32]))
        let history = model.fit(x, y, batchSize: 8, epochs: 3, callbacks: [scheduler], verbose: false)
        #expect(history.epochs.map(\.batchSize) == [8, 16, 32])
        #expect(history.learningRates == [0.1, 0.1, 0.1])
    }

    @Test func csvLoggerWritesHeaderAndOneRowPerEpoch() throws {
        let (model, x, y) = Self.tinyProblem()
        model.compile(optimizer: SGD(learningRate: 0.1), loss: .softmaxCrossEntropy, metrics: [.accuracy])
        let path = NSTemporaryDirectory() + "backprop-\(UUID().uuidString).csv"
        model.fit(x, y, batchSize: 8, epochs: 2, validationSplit: 0.25, callbacks: [try CSVLogger(path: path)], verbose: false)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == "epoch,learning_rate,batch_size,seconds,loss,accuracy,val_loss,val_accuracy")
        #expect(lines[2].hasPrefix("2,0.1,8,"))
        #expect(throws: BackpropError.self) { try CSVLogger(path: "/nonexistent-dir/log.csv") }
    }

    /// Produces NaN for negative inputs.
    final class Logarithm: Layer {
        func callAsFunction(_ input: Tensor) -> Tensor { input.log() }
    }

    @Test func terminateOnNaNNamesTheFirstBrokenLayer() {
        seedGlobalRandom(1)
        let model = Model(inputShape: [3]) {
            Dense(3, 4)
            Logarithm()
            Dense(4, 2)
        }
        model.compile(optimizer: SGD(learningRate: 0.1), loss: .softmaxCrossEntropy)
        let x = Tensor([1, -2, 3, -1, 2, -3], shape: [2, 3])
        let y = Tensor([0, 1])
        let terminate = TerminateOnNaN()
        let history = model.fit(x, y, batchSize: 2, epochs: 5, callbacks: [terminate], verbose: false)
        #expect(history.epochs.count == 1)
        #expect(terminate.report?.contains("step 1") == true)
        #expect(terminate.report?.contains("layers.1 (Logarithm)") == true)
        // Inside a nested Sequential, by the model walk's path.
        seedGlobalRandom(1)
        let nested = Model(inputShape: [3]) {
            Dense(3, 4)
            Sequential {
                Logarithm()
                Dense(4, 4)
            }
            Dense(4, 2)
        }
        nested.compile(optimizer: SGD(learningRate: 0.1), loss: .softmaxCrossEntropy)
        let inner = TerminateOnNaN()
        nested.fit(x, y, batchSize: 2, epochs: 5, callbacks: [inner], verbose: false)
        #expect(inner.report?.contains("layers.1.layers.0 (Logarithm)") == true, "\(inner.report ?? "")")
    }

    @Test func penaltyIsAddedToTheLossAndReported() {
        seedGlobalRandom(2)
        let dense = Dense(3, 2, kernelRegularizer: .l2(0.5), biasRegularizer: .l1(0.25))
        dense.bias!.assign(Tensor([1, -2]))
        let expected = 0.5 * dense.weight.value.squared().sum().item + 0.25 * 3
        #expect(abs(dense.regularizationPenalty()!.item - expected) < 1e-5)
        let model = Model(inputShape: [3], dense)
        model.compile(optimizer: SGD(learningRate: 0), loss: .meanSquaredError)
        let x = Tensor.zeros([4, 3])
        let y = Tensor.zeros([4, 2])
        let history = model.fit(x, y, batchSize: 4, epochs: 1, verbose: false)
        let dataLoss = Double((1 + 4) / 2.0)  // predictions equal the bias [1, -2]
        #expect(abs(history["penalty"][0] - Double(expected)) < 1e-5)
        #expect(abs(history["loss"][0] - (dataLoss + Double(expected))) < 1e-5)
    }
}
