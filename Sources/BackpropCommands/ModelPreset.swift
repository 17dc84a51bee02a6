import ArgumentParser
import Backprop

/// The architectures `--model` can name.
enum ModelPreset: String, ExpressibleByArgument, CaseIterable {
    case mlp

    /// Builds the network for inputs of `inputShape` and `classes` outputs (logits).
    func makeModel(inputShape: Shape, classes: Int, hiddenWidths: [Int], dropout: Float) -> Model {
        switch self {
        case .mlp:
            let widths = [inputShape.elementCount] + hiddenWidths
            return Model(inputShape: inputShape) {
                Flatten()
                for (input, output) in zip(widths, widths.dropFirst()) {
                    Dense(input, output, activation: .relu)
                    if dropout > 0 { Dropout(rate: dropout) }
                }
                Dense(widths.last!, classes)
            }
        }
    }
}

/// The optimizers `--optimizer` can name.
enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable {
    case sgd, momentum, nesterov, adam

    func make(learningRate: Float?, momentum: Float) -> Optimizer {
        switch self {
        case .sgd: SGD(learningRate: learningRate ?? 0.01)
        case .momentum: SGD(learningRate: learningRate ?? 0.01, momentum: momentum)
        case .nesterov: SGD(learningRate: learningRate ?? 0.01, momentum: momentum, nesterov: true)
        case .adam: Adam(learningRate: learningRate ?? 1e-3)
        }
    }
}
