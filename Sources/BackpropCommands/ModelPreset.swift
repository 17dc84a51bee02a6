import ArgumentParser
import Backprop

/// The architectures `--model` can name.
enum ModelPreset: String, ExpressibleByArgument, CaseIterable {
    /// Flatten, hidden Dense+ReLU layers (--hidden), Dense to the classes.
    case mlp
    /// The peers' CNN: Conv 32 3×3 same, ReLU, MaxPool 2; Conv 64 3×3 same, ReLU, MaxPool 2;
    /// Dense 128 ReLU; Dense to the classes.
    case cnn
    /// LeCun et al. 1998: Conv 6 5×5 same, tanh, AvgPool 2; Conv 16 5×5, tanh, AvgPool 2;
    /// Dense 120, 84 (tanh), classes.
    case lenet5
    /// VGG-16 (Simonyan & Zisserman 2015): thirteen 3×3 same convolutions in five blocks
    /// (64, 128, 256, 512, 512 channels × --width), 2×2 max pooling (same padding, so any input
    /// size works), Dense 4096 × width twice, classes.
    case vgg

    /// Builds the network for inputs of `inputShape` and `classes` outputs (logits).
    func makeModel(
        inputShape: Shape, classes: Int, hiddenWidths: [Int] = [512, 256], dropout: Float = 0, l2: Float = 0,
        width: Double = 1
    ) -> Model {
        let regularizer: Regularizer? = l2 > 0 ? .l2(l2) : nil
        let channels = inputShape.last ?? 1
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
        case .cnn:
            let (h, w) = (inputShape[0], inputShape[1])
            let flat = max(((h / 2) / 2) * ((w / 2) / 2), 1) * 64
            return Model(inputShape: inputShape) {
                Conv2D(channels, 32, kernelSize: 3, padding: .same, activation: .relu, kernelRegularizer: regularizer)
                MaxPool2D(2)
                Conv2D(32, 64, kernelSize: 3, padding: .same, activation: .relu, kernelRegularizer: regularizer)
                MaxPool2D(2)
                Flatten()
                Dense(flat, 128, activation: .relu, kernelRegularizer: regularizer)
                if dropout > 0 { Dropout(rate: dropout) }
                Dense(128, classes, kernelRegularizer: regularizer)
            }
        case .lenet5:
            let (h, w) = (inputShape[0], inputShape[1])
            let flat = max(((h / 2 - 4) / 2) * ((w / 2 - 4) / 2), 1) * 16  // ≥ 1 so validate() names the conv that does not fit
            return Model(inputShape: inputShape) {
                Conv2D(channels, 6, kernelSize: 5, padding: .same, activation: .tanh)
                AvgPool2D(2)
                Conv2D(6, 16, kernelSize: 5, activation: .tanh)
                AvgPool2D(2)
                Flatten()
                Dense(flat, 120, activation: .tanh)
                Dense(120, 84, activation: .tanh)
                Dense(84, classes)
            }
        case .vgg:
            let scaled = { (n: Int) in max(1, Int((Double(n) * width).rounded())) }
            let blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
            var layers: [any Layer] = []
            var inputChannels = channels
            var (h, w) = (inputShape[0], inputShape[1])
            for block in blocks {
                for outputChannels in block.map(scaled) {
                    layers.append(
                        Conv2D(
                            inputChannels, outputChannels, kernelSize: 3, padding: .same, activation: .relu,
                            kernelRegularizer: regularizer))
                    inputChannels = outputChannels
                }
                layers.append(MaxPool2D(2, padding: .same))
                (h, w) = ((h + 1) / 2, (w + 1) / 2)
            }
            let dense = scaled(4096)
            layers.append(Flatten())
            layers.append(Dense(h * w * inputChannels, dense, activation: .relu, kernelRegularizer: regularizer))
            if dropout > 0 { layers.append(Dropout(rate: dropout)) }
            layers.append(Dense(dense, dense, activation: .relu, kernelRegularizer: regularizer))
            if dropout > 0 { layers.append(Dropout(rate: dropout)) }
            layers.append(Dense(dense, classes, kernelRegularizer: regularizer))
            return Model(inputShape: inputShape, Sequential(layers))
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
