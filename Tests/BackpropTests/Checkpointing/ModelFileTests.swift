import Backprop
import Foundation
import Testing

@testable import BackpropCommands

struct ArchitectureFileTests {
    static let cnnJSON = """
        {"format": "backprop-architecture", "version": 1, "input_shape": [8, 8, 1],
         "layers": [
           {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu", "l2": 0.0001},
           {"type": "batch_norm"},
           {"type": "max_pool2d", "size": 2},
           {"type": "avg_pool2d", "size": 2, "stride": 1, "padding": [0, 0, 1, 1]},
           {"type": "flatten"},
           {"type": "dense", "units": 6, "activation": "leaky_relu(0.1)", "l1": 0.001},
           {"type": "dropout", "rate": 0.25},
           {"type": "activation", "function": "elu(0.5)"},
           {"type": "dense", "units": 2}
         ]}
        """

    @Test func readsEveryFieldAndWritesItBack() throws {
        let architecture = try Architecture(json: Data(Self.cnnJSON.utf8), source: "cnn.json")
        #expect(architecture.inputShape == [8, 8, 1] && architecture.layers.count == 9)
        #expect(architecture.layers[0] == .conv2D(filters: 4, kernelSize: 3, padding: .same, activation: .relu, regularizer: .l2(0.0001)))
        #expect(architecture.layers[3] == .avgPool2D(size: 2, stride: 1, padding: .explicit(top: 0, left: 0, bottom: 1, right: 1)))
        #expect(architecture.layers[5] == .dense(units: 6, activation: .leakyRelu(slope: 0.1), regularizer: .l1(0.001)))
        #expect(architecture.layers[7] == .activation(.elu(alpha: 0.5)))
        let again = try Architecture(json: architecture.jsonData(), source: "written")
        #expect(again == architecture)
        #expect(try architecture.plan().outputShape == [2])
    }

    @Test(
        arguments: [
            (#"{"input_shape": [4], "layers": [{"type": "transformer"}]}"#, "layers[0].type"),
            (#"{"input_shape": [4], "layers": [{"type": "lstm"}]}"#, "layers[0].units"),
            (#"{"input_shape": [4, 2], "layers": [{"type": "lstm", "units": 3, "activation": "relu"}]}"#, "layers[0].activation"),
            (#"{"input_shape": [4, 2], "layers": [{"type": "bidirectional", "layer": {"type": "dense", "units": 2}}]}"#, "layers[0].layer"),
            (
                #"{"input_shape": [4, 2], "layers": [{"type": "bidirectional", "layer": {"type": "gru", "units": 0}}]}"#,
                "layers[0].layer.units"
            ),
            (#"{"input_shape": [4], "layers": [{"type": "dense"}]}"#, "layers[0].units"),
            (#"{"input_shape": [4], "layers": [{"type": "dense", "units": 3, "activaton": "relu"}]}"#, "layers[0].activaton"),
            (#"{"input_shape": [4], "layers": [{"type": "dense", "units": 3, "activation": "swish"}]}"#, "layers[0].activation"),
            (#"{"input_shape": [4], "layers": [{"type": "dense", "units": -3}]}"#, "layers[0].units"),
            (#"{"input_shape": [4], "layers": [{"type": "dropout", "rate": 1.5}]}"#, "layers[0].rate"),
            (
                #"{"input_shape": [4, 4, 1], "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "full"}]}"#,
                "layers[0].padding"
            ),
            (#"{"input_shape": [0], "layers": []}"#, "input_shape"),
            (#"{"layers": []}"#, "input_shape"),
            (#"{"input_shape": [4], "layers": 3}"#, "layers"),
            (#"{"format": "keras", "input_shape": [4], "layers": []}"#, "format"),
            (#"{"input_shape": [4], "layers": [], "extra": 1}"#, "extra"),
            ("[1]", "architecture"),
        ] as [(String, String)])
    func badArchitectureFilesNameTheField(_ json: String, field: String) {
        #expect {
            _ = try Architecture(json: Data(json.utf8), source: "arch.json")
        } throws: { error in
            "\(error)".contains("arch.json") && "\(error)".contains(field)
        }
    }

    @Test func everyLayerKindRoundTripsThroughJSON() throws {
        let architecture = Architecture(
            inputShape: [6, 6, 2],
            layers: [
                .normalization(kind: .minMax, perChannel: true), .conv2D(filters: 3, kernelSize: 3, stride: 2, padding: .same),
                .zeroPadding2D(top: 1, left: 0, bottom: 2, right: 1),
                .conv2DTranspose(
                    filters: 2, kernelSize: 3, stride: 2, padding: .explicit(top: 1, left: 0, bottom: 0, right: 1), activation: .relu),
                .batchNorm(momentum: 0.9, epsilon: 1e-5, unbiasedRunningVariance: true),
                .avgPool2D(size: 2, stride: 1, padding: .same, countIncludesPadding: true), .maxPool2D(size: 2),
                .globalAveragePooling2D, .reshape([2, -1]), .flatten, .dropout(rate: 0.5), .activation(.softplus), .dense(units: 3),
            ])
        let again = try Architecture(json: architecture.jsonData(), source: "all.json")
        #expect(again == architecture)
        #expect(
            try again.plan().steps.map(\.output) == [
                [6, 6, 2], [3, 3, 3], [6, 4, 3], [12, 8, 2], [12, 8, 2], [12, 8, 2], [6, 4, 2], [2], [2, 1], [2], [2], [2], [3],
            ])
        let model = try again.makeModel()
        #expect(model.predict(Tensor.zeros([2, 6, 6, 2])).shape == [2, 3])
        for (json, field) in [
            (#"{"input_shape": [4, 4, 1], "layers": [{"type": "reshape", "shape": [3, -1]}]}"#, "16 values do not fill"),
            (#"{"input_shape": [4, 4, 1], "layers": [{"type": "reshape", "shape": [-1, -1]}]}"#, "layers[0].shape"),
            (#"{"input_shape": [4, 4, 1], "layers": [{"type": "zero_padding2d", "padding": [1, 1]}]}"#, "layers[0].padding"),
            (#"{"input_shape": [4], "layers": [{"type": "global_avg_pool2d"}]}"#, "[H, W, C]"),
        ] {
            #expect {
                try Architecture(json: Data(json.utf8), source: "a.json").plan()
            } throws: { "\($0)".contains(field) }
        }
    }

    /// Sequence layers, unshared weights, maxout, and every weight option, written and read back.
    static let optionsJSON = """
        {"format": "backprop-architecture", "version": 1, "input_shape": [12, 3],
         "layers": [
           {"type": "conv1d", "filters": 4, "kernel_size": 3, "padding": "same", "dilation": 2, "use_bias": false,
            "kernel_initializer": "he_normal", "activation": "relu", "l2": 0.001},
           {"type": "conv1d", "filters": 3, "kernel_size": 2, "stride": 2, "padding": [1, 0], "bias_initializer": "constant(0.5)"},
           {"type": "locally_connected1d", "filters": 2, "kernel_size": 3, "activation": "tanh", "bias_l1": 0.01},
           {"type": "flatten"},
           {"type": "maxout", "units": 5, "pieces": 3, "kernel_initializer": "normal(0.05)", "bias_l2": 0.1},
           {"type": "dense", "units": 4, "use_bias": false, "kernel_initializer": "uniform(0.1)"}
         ]}
        """

    @Test func weightOptionsAndSequenceLayersAreRead() throws {
        let architecture = try Architecture(json: Data(Self.optionsJSON.utf8), source: "options.json")
        #expect(
            architecture.layers[0]
                == .conv1D(
                    filters: 4, kernelSize: 3, padding: .same, dilation: 2, activation: .relu, regularizer: .l2(0.001),
                    weights: WeightOptions(useBias: false, kernelInitializer: .heNormal)))
        #expect(
            architecture.layers[4]
                == .maxout(
                    units: 5, pieces: 3,
                    weights: WeightOptions(kernelInitializer: .normal(standardDeviation: 0.05), biasRegularizer: .l2(0.1))))
        let plan = try architecture.plan()
        // conv1d same: 12 steps; conv1d k2 s2 padded [1, 0]: (12 + 1 − 2)/2 + 1 = 6; locally connected k3: 4.
        #expect(plan.steps.map(\.output) == [[12, 4], [6, 3], [4, 2], [8], [5], [4]])
        #expect(plan.parameterCount == 3 * 3 * 4 + (2 * 4 * 3 + 3) + (4 * 3 * 3 * 2 + 4 * 2) + (8 * 15 + 15) + 5 * 4)
        #expect(try Architecture(json: architecture.jsonData(), source: "written") == architecture)
        seedGlobalRandom(3)
        let model = try architecture.makeModel()
        let parameters = Dictionary(model.namedParameters.map { ($0.name, $0.parameter) }, uniquingKeysWith: { a, _ in a })
        #expect(model.namedParameters.reduce(0) { $0 + $1.parameter.shape.elementCount } == plan.parameterCount)
        #expect(parameters["layers.0.bias"] == nil && parameters["layers.5.bias"] == nil)
        #expect(parameters["layers.1.bias"]?.value.scalars == [0.5, 0.5, 0.5])
        #expect(parameters["layers.5.weight"]?.value.scalars.allSatisfy { abs($0) <= 0.1 } == true)
        #expect(parameters["layers.0.weight"]?.regularizer == .l2(0.001) && parameters["layers.2.layer.bias"]?.regularizer == .l1(0.01))
        #expect(model.predict(Tensor.zeros([2, 12, 3])).shape == [2, 4])
        // The file keeps it: the loaded model predicts bit-identically.
        let folder = ModelFileTests.folder()
        try model.save(to: folder + "/options.safetensors")
        let (loaded, _) = try Model.load(from: folder + "/options.safetensors")
        let x = PyTorchTests.inputs([12, 3], count: 5, seed: 1)
        #expect(loaded.architecture == architecture && loaded.predict(x).scalars == model.predict(x).scalars)
    }

    @Test func twoDimensionalExtentsAndOutputPaddingAreRead() throws {
        let json = """
            {"input_shape": [9, 8, 2], "layers": [
              {"type": "conv2d", "filters": 3, "kernel_size": [3, 2], "stride": [2, 1], "dilation": [1, 2], "padding": "same"},
              {"type": "locally_connected2d", "filters": 2, "kernel_size": [2, 3], "stride": [1, 2]},
              {"type": "conv2d_transpose", "filters": 2, "kernel_size": 3, "stride": 2, "output_padding": [1, 0]}
            ]}
            """
        let architecture = try Architecture(json: Data(json.utf8), source: "2d.json")
        #expect(
            architecture.layers[0]
                == .conv2D(filters: 3, kernelSize: Extent2D(3, 2), stride: Extent2D(2, 1), padding: .same, dilation: Extent2D(1, 2)))
        #expect(try Architecture(json: architecture.jsonData(), source: "written") == architecture)
        // same: ⌈9/2⌉ × 8; locally connected 2×3 stride (1, 2): 4 × 3; transposed: (4−1)·2 + 3 + 1 = 10, (3−1)·2 + 3 = 7.
        #expect(try architecture.plan().steps.map(\.output) == [[5, 8, 3], [4, 3, 2], [10, 7, 2]])
        let model = try architecture.makeModel()
        #expect(model.predict(Tensor.zeros([1, 9, 8, 2])).shape == [1, 10, 7, 2])
    }

    @Test(
        arguments: [
            (#"{"type": "dense", "units": 2, "kernel_initializer": "orthonormal"}"#, "layers[0].kernel_initializer"),
            (#"{"type": "dense", "units": 2, "bias_initializer": "normal(-1)"}"#, "layers[0].bias_initializer"),
            (#"{"type": "dense", "units": 2, "use_bias": "no"}"#, "layers[0].use_bias"),
            (#"{"type": "dense", "units": 2, "bias_l2": -1}"#, "layers[0].bias_l2"),
            (#"{"type": "conv1d", "filters": 2, "kernel_size": 2, "padding": [1, 1, 1, 1]}"#, "layers[0].padding"),
            (#"{"type": "conv1d", "filters": 2, "kernel_size": [2, 2]}"#, "layers[0].kernel_size"),
            (#"{"type": "conv2d", "filters": 2, "kernel_size": [2]}"#, "layers[0].kernel_size"),
            (#"{"type": "conv2d", "filters": 2, "kernel_size": 2, "dilation": [0, 1]}"#, "layers[0].dilation"),
            (#"{"type": "maxout", "units": 2}"#, "layers[0].pieces"),
            (#"{"type": "maxout", "units": 2, "pieces": 2, "activation": "relu"}"#, "layers[0].activation"),
            (#"{"type": "locally_connected2d", "filters": 2, "kernel_size": 2, "padding": "same"}"#, "layers[0].padding"),
        ] as [(String, String)])
    func badWeightOptionsNameTheField(_ layer: String, field: String) {
        #expect {
            _ = try Architecture(json: Data(#"{"input_shape": [4, 4, 1], "layers": [\#(layer)]}"#.utf8), source: "arch.json")
        } throws: { "\($0)".contains("arch.json") && "\($0)".contains(field) }
    }

    @Test func layersThatDoNotFitTheirInputAreRefusedBeforeBuilding() {
        for (json, rule) in [
            (#"{"input_shape": [4, 4, 1], "layers": [{"type": "conv1d", "filters": 2, "kernel_size": 2}]}"#, "[L, C]"),
            (#"{"input_shape": [3, 2], "layers": [{"type": "locally_connected1d", "filters": 2, "kernel_size": 4}]}"#, "N = 3, F = 4"),
            (
                #"{"input_shape": [4, 4, 1], "layers": [{"type": "conv2d_transpose", "filters": 2, "kernel_size": 2, "stride": 2, "output_padding": 2}]}"#,
                "smaller than the stride"
            ),
        ] {
            #expect { try Architecture(json: Data(json.utf8), source: "a.json").plan() } throws: { "\($0)".contains(rule) }
        }
    }

    @Test func residualBlocksNestInTheFile() throws {
        let json = """
            {"input_shape": [8, 8, 3], "layers": [
              {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same"},
              {"type": "residual", "layers": [
                {"type": "batch_norm"}, {"type": "activation", "function": "relu"},
                {"type": "conv2d", "filters": 8, "kernel_size": 3, "stride": 2, "padding": "same"}],
               "shortcut": [{"type": "conv2d", "filters": 8, "kernel_size": 1, "stride": 2, "padding": "same", "use_bias": false}]},
              {"type": "residual", "layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same"}]},
              {"type": "global_avg_pool2d"}, {"type": "dense", "units": 3}
            ]}
            """
        let architecture = try Architecture(json: Data(json.utf8), source: "res.json")
        #expect(try Architecture(json: architecture.jsonData(), source: "written") == architecture)
        let plan = try architecture.plan()
        #expect(plan.steps.map(\.output) == [[8, 8, 4], [4, 4, 8], [4, 4, 8], [8], [3]])
        #expect(plan.parameterCount == (3 * 3 * 3 * 4 + 4) + (4 * 4 + 3 * 3 * 4 * 8 + 8 + 4 * 8) + (3 * 3 * 8 * 8 + 8) + (8 * 3 + 3))
        let model = try architecture.makeModel()
        #expect(model.namedParameters.reduce(0) { $0 + $1.parameter.elementCount } == plan.parameterCount)
        #expect(model.namedParameters.map(\.name).contains("layers.1.shortcut.layers.0.weight"))
        #expect(model.network.namedLayers.map(\.path).contains("layers.2.body.layers.0"))
        #expect(model.predict(Tensor.zeros([2, 8, 8, 3])).shape == [2, 3])
        for (text, field) in [
            (#"{"type": "residual", "layers": []}"#, "layers[0].layers"),
            (#"{"type": "residual", "layers": [{"type": "dens", "units": 2}]}"#, "layers[0].layers[0].type"),
            (#"{"type": "residual", "layers": [{"type": "flatten"}], "shortcut": 3}"#, "layers[0].shortcut"),
        ] {
            #expect {
                _ = try Architecture(json: Data(#"{"input_shape": [4, 4, 1], "layers": [\#(text)]}"#.utf8), source: "res.json")
            } throws: { "\($0)".contains(field) }
        }
        // A body that changes the shape needs a projection; the error names the block.
        let mismatch = try Architecture(
            json: Data(
                #"{"input_shape": [4, 4, 1], "layers": [{"type": "residual", "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 1}]}]}"#
                    .utf8),
            source: "res.json")
        #expect { try mismatch.plan() } throws: { "\($0)".contains("layer 0") && "\($0)".contains("projection") }
        let inner = try Architecture(
            json: Data(
                #"{"input_shape": [4, 4, 1], "layers": [{"type": "residual", "layers": [{"type": "conv2d", "filters": 1, "kernel_size": 9}]}]}"#
                    .utf8),
            source: "res.json")
        #expect { try inner.plan() } throws: { "\($0)".contains("body layer 0") }
    }

    @Test func resnetPresetsHaveTheirDepth() throws {
        for depth in [8, 20, 56] {
            let architecture = Architecture.preset(.resnet, inputShape: [28, 28, 1], outputs: 10, options: .init(depth: depth))
            let plan = try architecture.plan()
            #expect(plan.outputShape == [10])
            // Weighted layers: the stem, two 3×3 convolutions per block, the dense head (projections not counted).
            func convolutions(_ layers: [LayerSpec]) -> Int {
                layers.reduce(0) { count, layer in
                    switch layer {
                    case .conv2D(_, let k, _, _, _, _, _, _): count + (k == 3 ? 1 : 0)
                    case .residual(let body, _): count + convolutions(body)
                    default: count
                    }
                }
            }
            #expect(convolutions(architecture.layers) + 1 == depth)
            let plain = Architecture.preset(.plain, inputShape: [28, 28, 1], outputs: 10, options: .init(depth: depth))
            #expect(convolutions(plain.layers) + 1 == depth && !plain.layers.contains { if case .residual = $0 { true } else { false } })
        }
        let resnet20 = try Architecture.preset(.resnet, inputShape: [32, 32, 3], outputs: 10).makeModel()
        #expect(resnet20.predict(Tensor.zeros([1, 32, 32, 3])).shape == [1, 10])
        // ResNet-20 with projection shortcuts: about 0.27 M parameters (He et al.: 0.27 M).
        #expect((260_000...290_000).contains(resnet20.network.parameterCount))
    }

    @Test func aLayerThatDoesNotFitIsNamedByIndex() throws {
        let architecture = try Architecture(
            json: Data(#"{"input_shape": [4, 4, 1], "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 5}]}"#.utf8),
            source: "a.json")
        #expect { try architecture.plan() } throws: { "\($0)".contains("layer 0") && "\($0)".contains("N = 4, F = 5") }
    }
}

struct ModelFileTests {
    static func folder() -> String {
        let path = NSTemporaryDirectory() + "backprop-models-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aLoadedModelPredictsBitIdentically() throws {
        seedGlobalRandom(8)
        let architecture = try Architecture(json: Data(ArchitectureFileTests.cnnJSON.utf8), source: "cnn.json")
        let model = try architecture.makeModel()
        model.compile(optimizer: Adam(learningRate: 1e-2), loss: .softmaxCrossEntropy)
        var generator = RandomGenerator(seed: 4)
        let x = Tensor.randomNormal([16, 8, 8, 1], generator: &generator)
        model.fit(x, Tensor((0..<16).map { Float($0 % 2) }), batchSize: 8, epochs: 2, verbose: false)  // moves the batch-norm statistics
        let path = Self.folder() + "/cnn.safetensors"
        try model.save(to: path, metadata: ["backprop.class_names": "[\"a\",\"b\"]"])
        let (loaded, metadata) = try Model.load(from: path)
        #expect(loaded.predict(x).scalars == model.predict(x).scalars)
        #expect(metadata["backprop.class_names"] == "[\"a\",\"b\"]")
        #expect(loaded.architecture == architecture)
    }

    @Test func filesThatDoNotMatchTheirArchitectureAreRefused() throws {
        seedGlobalRandom(1)
        let model = try Architecture(inputShape: [3], layers: [.dense(units: 2)]).makeModel()
        let folder = Self.folder()
        try model.save(to: folder + "/good.safetensors")
        var file = try SafeTensors(contentsOf: folder + "/good.safetensors")
        var missing = file
        missing.tensors["layers.0.bias"] = nil
        try missing.write(to: folder + "/missing.safetensors")
        #expect { try Model.load(from: folder + "/missing.safetensors") } throws: { "\($0)".contains("layers.0.bias") }
        file.tensors["layers.0.weight"] = .init(shape: [2, 3], values: [Float](repeating: 0, count: 6))
        try file.write(to: folder + "/transposed.safetensors")
        #expect { try Model.load(from: folder + "/transposed.safetensors") } throws: {
            "\($0)".contains("layers.0.weight") && "\($0)".contains("[3, 2]")
        }
        file.metadata[Model.architectureMetadataKey] = #"{"input_shape": [3], "layers": [{"type": "dens", "units": 2}]}"#
        try file.write(to: folder + "/unknown.safetensors")
        #expect { try Model.load(from: folder + "/unknown.safetensors") } throws: { "\($0)".contains("layers[0].type") }
        file.metadata = [:]
        try file.write(to: folder + "/plain.safetensors")
        #expect { try Model.load(from: folder + "/plain.safetensors") } throws: { "\($0)".contains("backprop.architecture") }
    }

    /// `train --model-file arch.json --save model.safetensors`: the saved model gives the trained
    /// model's predictions exactly, and keeps the class names and the fitted normalization.
    @Test func trainSavesWhatItTrained() throws {
        let folder = Self.folder()
        let architecture = folder + "/mlp.json"
        FileManager.default.createFile(
            atPath: architecture,
            contents: Data(
                #"{"input_shape": [3], "layers": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "batch_norm"}, {"type": "dense", "units": 3}]}"#
                    .utf8))
        let path = folder + "/model.safetensors"
        let outcome = try TrainOptionTests.train(["--model-file", architecture, "--save", path, "--normalize", "standard"]).outcome
        let (loaded, metadata) = try Model.load(from: path)
        let inputs = try outcome.run.test.materialized().inputs
        #expect(loaded.predict(inputs).scalars == outcome.run.model.predict(inputs).scalars)
        #expect(metadata["backprop.class_names"] == #"["setosa","versicolor","virginica"]"#)
        #expect(loaded.architecture?.layers.first == .normalization(kind: .standardization, perChannel: false))
        #expect(throws: Error.self) { try TrainOptionTests.train(["--model-file", architecture, "--hidden", "4"]) }
        #expect { try TrainOptionTests.train(["--save", "/nonexistent-folder/m.safetensors"]) } throws: {
            "\($0)".contains("/nonexistent-folder")
        }
        let wrongOutputs = folder + "/wrong.json"
        FileManager.default.createFile(
            atPath: wrongOutputs, contents: Data(#"{"input_shape": [3], "layers": [{"type": "dense", "units": 5}]}"#.utf8))
        #expect { try TrainOptionTests.train(["--model-file", wrongOutputs]) } throws: { "\($0)".contains("3 outputs") }
    }
}
