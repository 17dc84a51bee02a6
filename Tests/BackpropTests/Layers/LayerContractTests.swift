import Backprop
import BackpropTestSupport
import Testing

/// Every layer of the library against the shared contract (BackpropTestSupport/LayerContract).
struct LayerContractTests {
    static let contracts: [LayerContract] = [
        LayerContract("Dense", input: [3, 4], output: [3, 2], parameters: ["weight", "bias"], count: 4 * 2 + 2) { Dense(4, 2) },
        LayerContract("Dense sigmoid", input: [3, 4], output: [3, 2], parameters: ["weight", "bias"], count: 4 * 2 + 2) {
            Dense(4, 2, activation: .sigmoid)
        },
        LayerContract("Dense without bias on a rank-3 input", input: [2, 3, 4], output: [2, 3, 5], parameters: ["weight"], count: 20) {
            Dense(4, 5, useBias: false)
        },
        LayerContract(
            "Conv2D same stride 2", input: [2, 5, 6, 2], output: [2, 3, 3, 3], parameters: ["weight", "bias"], count: 3 * 3 * 2 * 3 + 3
        ) {
            Conv2D(2, 3, kernelSize: 3, stride: 2, padding: .same, activation: .tanh)
        },
        LayerContract(
            "Conv2D with fused ReLU", input: [1, 4, 4, 2], output: [1, 2, 2, 3], parameters: ["weight", "bias"], count: 3 * 3 * 2 * 3 + 3
        ) {
            Conv2D(2, 3, kernelSize: 3, activation: .relu)
        },
        LayerContract(
            "Conv2DTranspose stride 2 valid", input: [2, 3, 4, 2], output: [2, 7, 9, 3], parameters: ["weight", "bias"],
            count: 3 * 3 * 3 * 2 + 3
        ) {
            Conv2DTranspose(2, 3, kernelSize: (3, 3), strides: (2, 2))
        },
        // (in − 1)·s + k + output padding = 2·2 + 3 + 1 = 8 rows, 2·2 + 3 + 0 = 7 columns.
        LayerContract(
            "Conv2DTranspose with output padding", input: [1, 3, 3, 2], output: [1, 8, 7, 2], parameters: ["weight", "bias"],
            count: 3 * 3 * 2 * 2 + 2
        ) {
            Conv2DTranspose(2, 2, kernelSize: (3, 3), strides: (2, 2), outputPadding: (1, 0))
        },
        LayerContract("Conv1D dilated", input: [2, 9, 3], output: [2, 5, 2], parameters: ["weight", "bias"], count: 3 * 3 * 2 + 2) {
            Conv1D(3, 2, kernelSize: 3, dilation: 2, activation: .elu(alpha: 1))
        },
        LayerContract(
            "LocallyConnected2D", input: [2, 5, 4, 2], output: [2, 2, 2, 3], parameters: ["weight", "bias"],
            count: 4 * (3 * 2 * 2) * 3 + 4 * 3
        ) {
            LocallyConnected2D(inputShape: [5, 4, 2], outputChannels: 3, kernelSize: (3, 2), strides: (2, 2))
        },
        LayerContract(
            "LocallyConnected1D", input: [2, 7, 2], output: [2, 3, 2], parameters: ["layer.weight", "layer.bias"],
            count: 3 * (3 * 2) * 2 + 3 * 2
        ) {
            LocallyConnected1D(inputLength: 7, inputChannels: 2, outputChannels: 2, kernelSize: 3, stride: 2)
        },
        LayerContract(
            "Residual with identity shortcut", input: [2, 4, 4, 2], output: [2, 4, 4, 2],
            parameters: ["body.layers.0.weight", "body.layers.0.bias", "body.layers.1.weight", "body.layers.1.bias"],
            count: 2 * (3 * 3 * 2 * 2 + 2)
        ) {
            // Linear branches: the check is of the two paths adding up (the layers inside have their own).
            Residual {
                Conv2D(2, 2, kernelSize: 3, padding: .same)
                Conv2D(2, 2, kernelSize: 3, padding: .same)
            }
        },
        LayerContract(
            "Residual with a projection shortcut", input: [2, 5, 5, 2], output: [2, 3, 3, 3],
            parameters: ["body.layers.0.weight", "body.layers.0.bias", "shortcut.layers.0.weight"], count: 3 * 3 * 2 * 3 + 3 + 2 * 3
        ) {
            Residual(shortcut: Sequential([Conv2D(2, 3, kernelSize: 1, stride: 2, padding: .same, useBias: false)])) {
                Conv2D(2, 3, kernelSize: 3, stride: 2, padding: .same)
            }
        },
        // Every merge on one path: a − b, then ⊙ a gate, + a skip, joined with the input.
        LayerContract(
            "Graph with branches that meet (Subtract, Multiply, Add, Concatenate)", input: [3, 4], output: [3, 7],
            parameters: ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.2.weight", "layers.2.bias"],
            count: (4 * 3 + 3) + 4 * 3 + (4 * 3 + 3)
        ) {
            try! Graph(
                inputs: [.init("features", [4])],
                nodes: [
                    .init("a", Dense(4, 3, activation: .tanh), from: ["features"]),
                    .init("b", Dense(4, 3, useBias: false), from: ["features"]),
                    .init("gate", Dense(4, 3, activation: .sigmoid), from: ["features"]),
                    .init("difference", Subtract(), from: ["a", "b"]),
                    .init("gated", Multiply(), from: ["difference", "gate"]), .init("sum", Add(), from: ["gated", "a", "b"]),
                    .init("joined", Concatenate(), from: ["sum", "features"]),
                ],
                outputs: ["joined"])
        },
        // Two inputs arrive packed ([N, 2·2·1 + 3]), two outputs leave packed ([N, 2 + 4·2·2]).
        LayerContract(
            "Graph with two inputs and two outputs (packed)", input: [2, 7], output: [2, 18],
            parameters: ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"], count: (1 * 2 + 2) + (3 * 2 + 2)
        ) {
            try! Graph(
                inputs: [.init("image", [2, 2, 1]), .init("extra", [3])],
                nodes: [
                    .init("conv", Conv2D(1, 2, kernelSize: 1, activation: .tanh), from: ["image"]),
                    .init("flat", Flatten(), from: ["conv"]), .init("side", Dense(3, 2), from: ["extra"]),
                    .init("rows", Concatenate(axis: 0), from: ["conv", "conv"]),
                ],
                outputs: ["side", "rows"])
        },
        LayerContract(
            "BatchNorm in training", input: [4, 3, 2, 3], output: [4, 3, 2, 3],
            parameters: ["gamma", "beta", "runningMean", "runningVariance"], count: 4 * 3, training: true
        ) {
            BatchNorm(channels: 3)
        },
        LayerContract(
            "BatchNorm in inference", input: [3, 4], output: [3, 4], parameters: ["gamma", "beta", "runningMean", "runningVariance"],
            count: 16
        ) {
            BatchNorm(channels: 4)
        },
        LayerContract("MaxPool2D 2×2", input: [2, 4, 6, 3], output: [2, 2, 3, 3], parameters: [], count: 0, distinct: true) {
            MaxPool2D(2)
        },
        LayerContract("MaxPool2D 3×3 stride 2 same", input: [1, 7, 5, 2], output: [1, 4, 3, 2], parameters: [], count: 0, distinct: true) {
            MaxPool2D(3, stride: 2, padding: .same)
        },
        LayerContract("AvgPool2D 2×2 stride 1", input: [2, 3, 4, 2], output: [2, 2, 3, 2], parameters: [], count: 0) {
            AvgPool2D(2, stride: 1)
        },
        LayerContract("GlobalAveragePooling2D", input: [2, 3, 3, 2], output: [2, 2], parameters: [], count: 0) { GlobalAveragePooling2D() },
        LayerContract("ZeroPadding2D", input: [1, 2, 3, 2], output: [1, 5, 4, 2], parameters: [], count: 0) {
            ZeroPadding2D(top: 1, left: 0, bottom: 2, right: 1)
        },
        LayerContract("Reshape", input: [2, 3, 4], output: [2, 12], parameters: [], count: 0) { Reshape([12]) },
        LayerContract("Flatten", input: [2, 3, 2, 2], output: [2, 12], parameters: [], count: 0) { Flatten() },
        LayerContract("Activation softplus", input: [3, 5], output: [3, 5], parameters: [], count: 0) { Activation(.softplus) },
        LayerContract("Dropout in inference", input: [3, 5], output: [3, 5], parameters: [], count: 0) { Dropout(rate: 0.5) },
        LayerContract(
            "Maxout", input: [3, 4], output: [3, 2], parameters: ["linear.weight", "linear.bias"], count: 4 * 6 + 6, distinct: true
        ) {
            Maxout(4, units: 2, pieces: 3)
        },
        LayerContract("Normalization", input: [3, 4], output: [3, 4], parameters: ["offset", "scale"], count: 8) {
            let layer = Normalization(inputShape: [4])
            layer.adapt(Tensor(ReferenceMath.values(40, seed: 9), shape: [10, 4]))
            return layer
        },
        LayerContract(
            "LSTM, last state", input: [2, 4, 3], output: [2, 5],
            parameters: ["inputWeight", "recurrentWeight", "inputBias", "recurrentBias"], count: 4 * 5 * (3 + 5) + 2 * 4 * 5
        ) {
            LSTM(3, 5)
        },
        LayerContract(
            "GRU, sequences, reversed", input: [2, 4, 3], output: [2, 4, 3],
            parameters: ["inputWeight", "recurrentWeight", "inputBias", "recurrentBias"], count: 3 * 3 * (3 + 3) + 2 * 3 * 3
        ) {
            GRU(3, 3, returnSequences: true, reverse: true)
        },
        LayerContract(
            "SimpleRNN without bias", input: [3, 5, 2], output: [3, 4], parameters: ["inputWeight", "recurrentWeight"],
            count: 4 * (2 + 4)
        ) {
            SimpleRNN(2, 4, useBias: false)
        },
        LayerContract(
            "Bidirectional SimpleRNN", input: [2, 3, 2], output: [2, 3, 6],
            parameters: [
                "forward.inputWeight", "forward.recurrentWeight", "forward.inputBias", "forward.recurrentBias", "backward.inputWeight",
                "backward.recurrentWeight", "backward.inputBias", "backward.recurrentBias",
            ], count: 2 * (3 * (2 + 3) + 2 * 3)
        ) {
            // (The LSTM's own gradients, both directions, are checked against PyTorch in RecurrentTests.)
            Bidirectional(SimpleRNN(2, 3, returnSequences: true))
        },
        LayerContract("LayerNorm", input: [3, 2, 4], output: [3, 2, 4], parameters: ["weight", "bias"], count: 8) {
            LayerNorm(features: 4)
        },
        LayerContract(
            "TimeDistributed Dense", input: [2, 3, 4], output: [2, 3, 2], parameters: ["layer.weight", "layer.bias"], count: 4 * 2 + 2
        ) {
            TimeDistributed(Dense(4, 2))
        },
        LayerContract("Masking", input: [2, 3, 2], output: [2, 3, 2], parameters: [], count: 0) { Masking(value: 0) },
        LayerContract(
            "Sequential", input: [2, 3], output: [2, 2],
            parameters: ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"],
            count: 3 * 4 + 4 + 4 * 2 + 2
        ) {
            Sequential {
                Dense(3, 4)
                Activation(.tanh)
                Dense(4, 2)
            }
        },
    ]

    @Test(arguments: contracts)
    func layerKeepsTheContract(_ contract: LayerContract) {
        let violations = contract.violations()
        #expect(violations.isEmpty, "\(contract.name): \(violations.joined(separator: "; "))")
    }

    /// A layer whose backward is wrong breaks the contract: the harness can fail.
    @Test func aWrongGradientBreaksTheContract() {
        final class WrongSquare: Layer {
            // x² with the derivative 3x instead of 2x.
            func callAsFunction(_ input: Tensor) -> Tensor {
                let value = withoutGradient { input * input }
                return Tensor.differentiable("wrongSquare", value: value, inputs: [input]) { gradient, sink in
                    sink.add(0, gradient * input * 3)
                }
            }
        }
        let contract = LayerContract("wrong", input: [2, 3], output: [2, 3], parameters: [], count: 0) { WrongSquare() }
        #expect(contract.violations().contains { $0.hasPrefix("gradients") })
        let misnamed = LayerContract("misnamed", input: [3, 4], output: [3, 2], parameters: ["kernel", "bias"], count: 10) { Dense(4, 2) }
        #expect(misnamed.violations().contains { $0.hasPrefix("parameter names") })
    }
}
