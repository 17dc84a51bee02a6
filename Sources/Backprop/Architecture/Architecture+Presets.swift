extension Architecture {
    /// The named architectures of the CLI's `--model`, shared with the benchmark.
    public enum Preset: String, Sendable, CaseIterable {
        /// Flatten, hidden Dense+ReLU layers (`hiddenWidths`), Dense to the outputs.
        case mlp
        /// The peers' CNN: Conv 32 3×3 same, ReLU, MaxPool 2; Conv 64 3×3 same, ReLU, MaxPool 2;
        /// Dense 128 ReLU; Dense to the outputs.
        case cnn
        /// LeCun et al. 1998: Conv 6 5×5 same, tanh, AvgPool 2; Conv 16 5×5, tanh, AvgPool 2;
        /// Dense 120, 84 (tanh), outputs.
        case lenet5
        /// VGG-16 (Simonyan & Zisserman 2015): thirteen 3×3 same convolutions in five blocks
        /// (64, 128, 256, 512, 512 channels), 2×2 max pooling (same padding, so any input size
        /// works), Dense 4096 twice, outputs.
        case vgg
        /// A pre-activation ResNet (He et al. 2016) for small images: a 3×3 stem of 16 channels,
        /// three stages of (depth − 2)/6 blocks (16, 32, 64 channels; stride 2 entering stages 2
        /// and 3), each block BN-ReLU-conv3×3-BN-ReLU-conv3×3 plus its input (a strided 1×1
        /// projection where the shape changes), then BN-ReLU, global average pooling, the outputs.
        case resnet
        /// The same network without its skip connections (for the depth study).
        case plain
        /// An LSTM of 128 units (× `width`) reading each sample as a sequence: image rows (28 steps
        /// of 28 features for Fashion-MNIST), a table's [steps, features], or a vector's values one
        /// per step; its last state goes to a Dense layer.
        case lstm
        /// The same with a GRU.
        case gru

        /// Whether the preset takes images [height, width, channels].
        public var needsImages: Bool { ![.mlp, .lstm, .gru].contains(self) }
    }

    /// Options every preset understands.
    public struct PresetOptions: Sendable {
        /// Hidden layer widths of the MLP.
        public var hiddenWidths: [Int]
        /// Multiplies every channel count and hidden width of the convolutional presets.
        public var width: Double
        /// Dropout after each hidden dense layer (0: none).
        public var dropout: Float
        /// Batch normalization after each convolution and hidden dense layer, before its activation.
        public var batchNorm: Bool
        /// Penalty on every weight matrix and kernel.
        public var regularizer: Regularizer?
        /// Weighted layers of resnet and plain: 6n + 2 (8, 14, 20, 32, 44, 56, 110…).
        public var depth: Int

        public init(
            hiddenWidths: [Int] = [512, 256], width: Double = 1, dropout: Float = 0, batchNorm: Bool = false,
            regularizer: Regularizer? = nil, depth: Int = 20
        ) {
            self.depth = depth
            self.hiddenWidths = hiddenWidths
            self.width = width
            self.dropout = dropout
            self.batchNorm = batchNorm
            self.regularizer = regularizer
        }
    }

    /// The preset for samples of `inputShape` with `outputs` logits (or regression outputs).
    public static func preset(_ preset: Preset, inputShape: Shape, outputs: Int, options: PresetOptions = PresetOptions()) -> Architecture {
        let scaled = { (n: Int) in max(1, Int((Double(n) * options.width).rounded())) }
        let regularizer = options.regularizer
        var layers: [LayerSpec] = []
        func dense(_ units: Int, _ activation: ActivationFunction) {
            if options.batchNorm {
                layers += [.dense(units: units, regularizer: regularizer), .batchNorm(), .activation(activation)]
            } else {
                layers.append(.dense(units: units, activation: activation, regularizer: regularizer))
            }
            if options.dropout > 0 { layers.append(.dropout(rate: options.dropout)) }
        }
        func conv(_ filters: Int, _ kernel: Int, _ padding: Padding, _ activation: ActivationFunction) {
            if options.batchNorm {
                layers += [
                    .conv2D(filters: filters, kernelSize: Extent2D(kernel), padding: padding, regularizer: regularizer), .batchNorm(),
                    .activation(activation),
                ]
            } else {
                layers.append(
                    .conv2D(
                        filters: filters, kernelSize: Extent2D(kernel), padding: padding, activation: activation, regularizer: regularizer))
            }
        }
        switch preset {
        case .mlp:
            layers.append(.flatten)
            for width in options.hiddenWidths { dense(width, .relu) }
        case .cnn:
            conv(scaled(32), 3, .same, .relu)
            layers.append(.maxPool2D(size: 2))
            conv(scaled(64), 3, .same, .relu)
            layers += [.maxPool2D(size: 2), .flatten]
            dense(scaled(128), .relu)
        case .lenet5:
            conv(scaled(6), 5, .same, .tanh)
            layers.append(.avgPool2D(size: 2))
            conv(scaled(16), 5, .valid, .tanh)
            layers += [.avgPool2D(size: 2), .flatten]
            dense(scaled(120), .tanh)
            dense(scaled(84), .tanh)
        case .vgg:
            for block in [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]] {
                for filters in block { conv(scaled(filters), 3, .same, .relu) }
                layers.append(.maxPool2D(size: 2, padding: .same))
            }
            layers.append(.flatten)
            dense(scaled(4096), .relu)
            dense(scaled(4096), .relu)
        case .resnet, .plain:
            let convolution = WeightOptions(useBias: false, kernelInitializer: .heNormal)
            func conv3(_ filters: Int, stride: Int = 1) -> LayerSpec {
                .conv2D(
                    filters: filters, kernelSize: 3, stride: Extent2D(stride), padding: .same, regularizer: regularizer,
                    weights: convolution)
            }
            let blocks = max(1, (options.depth - 2) / 6)
            var channels = scaled(16)
            layers.append(conv3(channels))
            for (stage, base) in [16, 32, 64].enumerated() {
                let filters = scaled(base)
                for block in 0..<blocks {
                    let stride = stage > 0 && block == 0 ? 2 : 1
                    let body: [LayerSpec] = [
                        .batchNorm(), .activation(.relu), conv3(filters, stride: stride), .batchNorm(), .activation(.relu), conv3(filters),
                    ]
                    if preset == .plain {
                        layers += body
                    } else {
                        let projection: [LayerSpec] =
                            stride != 1 || channels != filters
                            ? [
                                .conv2D(
                                    filters: filters, kernelSize: 1, stride: Extent2D(stride), padding: .same, regularizer: regularizer,
                                    weights: convolution)
                            ] : []
                        layers.append(.residual(body: body, shortcut: projection))
                    }
                    channels = filters
                }
            }
            layers += [.batchNorm(), .activation(.relu), .globalAveragePooling2D]
        case .lstm, .gru:
            switch inputShape.rank {
            case 3: layers.append(.reshape([inputShape[0], inputShape[1] * inputShape[2]]))
            case 1: layers.append(.reshape([inputShape[0], 1]))
            default: break
            }
            layers.append(.recurrent(cell: preset == .lstm ? .lstm : .gru, units: scaled(128), regularizer: regularizer))
            if options.dropout > 0 { layers.append(.dropout(rate: options.dropout)) }
        }
        layers.append(.dense(units: outputs, regularizer: regularizer))
        return Architecture(inputShape: inputShape, layers: layers)
    }
}
