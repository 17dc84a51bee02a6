import ArgumentParser
import Backprop

/// The architectures `--model` can name.
enum ModelPreset: String, ExpressibleByArgument, CaseIterable {
    case mlp

    /// Builds the network for inputs of `inputShape` and `classes` outputs (logits).
    func makeModel(inputShape: Shape, classes: Int, hiddenWidths: [Int], dropout: Float, l2: Float = 0) -> Model {
        let regularizer: Regularizer? = l2 > 0 ? .l2(l2) : nil
        switch self {
        case .mlp:
            let widths = [inputShape.elementCount] + hiddenWidths
            return Model(inputShape: inputShape) {
                Flatten()
                for (input, output) in zip(widths, widths.dropFirst()) {
                    Dense(input, output, activation: .relu, kernelRegularizer: regularizer)
                    if dropout > 0 { Dropout(rate: dropout) }
                }
                Dense(widths.last!, classes, kernelRegularizer: regularizer)
            }
        }
    }
}

/// The optimizers `--optimizer` can name.
enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable {
    case sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw

    /// The learning rate used when --lr is not given.
    var defaultLearningRate: Float {
        switch self {
        case .sgd, .momentum, .nesterov, .adagrad, .rmsprop: 0.01
        case .adam, .adamw: 1e-3
        }
    }

    func make(learningRate: Float?, momentum: Float, weightDecay: Float) -> Optimizer {
        let lr = learningRate ?? defaultLearningRate
        return switch self {
        case .sgd: SGD(learningRate: lr, weightDecay: weightDecay)
        case .momentum: SGD(learningRate: lr, momentum: momentum, weightDecay: weightDecay)
        case .nesterov: SGD(learningRate: lr, momentum: momentum, nesterov: true, weightDecay: weightDecay)
        case .adagrad: AdaGrad(learningRate: lr, weightDecay: weightDecay)
        case .rmsprop: RMSProp(learningRate: lr, weightDecay: weightDecay)
        case .adam: Adam(learningRate: lr, weightDecay: weightDecay)
        case .adamw: AdamW(learningRate: lr, weightDecay: weightDecay)
        }
    }
}

/// The learning-rate schedules `--lr-schedule` can name.
enum ScheduleChoice: String, ExpressibleByArgument, CaseIterable {
    case constant, linear, exponential, step, cosine, invsqrt, plateau
}

/// The batch-size schedules `--batch-schedule` can name.
enum BatchScheduleChoice: String, ExpressibleByArgument, CaseIterable {
    case none, step, plateau
}
