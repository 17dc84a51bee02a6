import Backprop
import Foundation
import Testing

@testable import BackpropCommands

/// Models exported with `backprop export --format pytorch` load in PyTorch with strict keys and
/// compute the same outputs; state dicts trained in PyTorch come back with `backprop import` and
/// predict what they predicted there. PyTorch itself runs the other side
/// (Fixtures/pytorch_check.py; scripts/test.sh installs torch).
@Suite(.serialized)
struct PyTorchTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/pytorch_check.py").path

    static func python(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let error = Pipe()
        process.standardError = error
        try process.run()
        let message = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "PyTorch side failed (scripts/test.sh installs torch): \(message.suffix(1500))")
    }

    /// A model of `architecture` whose weights and batch-norm statistics moved (a few steps on random data).
    static func trainedModel(_ architecture: Architecture, seed: UInt64, classes: Int) throws -> Model {
        seedGlobalRandom(seed)
        let model = try architecture.makeModel()
        let count = 64
        var generator = RandomGenerator(seed: seed)
        var x = Tensor(
            (0..<(count * architecture.inputShape.elementCount)).map { _ in generator.nextUniform() },
            shape: Shape([count] + architecture.inputShape.dimensions))
        switch architecture.layers.first {
        case .embedding, .masking: x = sampleInputs(architecture, count: count, seed: seed)
        default: break
        }
        let y = Tensor((0..<count).map { Float($0 % classes) }, shape: [count])
        if let normalization = (model.network as? Sequential)?.layers.first as? Normalization { normalization.adapt(x) }
        model.compile(optimizer: Adam(learningRate: 0.01), loss: SoftmaxCrossEntropy())
        model.fit(x, y, batchSize: 16, epochs: 2, verbose: false)
        return model
    }

    /// Inputs the architecture takes: integer ids (zero-padded at the end) for an embedding,
    /// sequences with all-zero steps (padding at the end and gaps) after a masking layer.
    static func sampleInputs(_ architecture: Architecture, count: Int, seed: UInt64) -> Tensor {
        let shape = architecture.inputShape
        var x = inputs(shape, count: count, seed: seed).scalars
        var generator = RandomGenerator(seed: seed + 100)
        switch architecture.layers.first {
        case .embedding(let vocabulary, _, _):
            let steps = shape[0]
            for sample in 0..<count {
                let length = 1 + sample % steps
                for t in 0..<steps { x[sample * steps + t] = t < length ? Float(1 + generator.next() % UInt64(vocabulary - 1)) : 0 }
            }
        case .masking:
            let (steps, features) = (shape[0], shape[1])
            for sample in 0..<count {
                let length = 1 + sample % steps
                for t in 0..<steps where t >= length || (t == 1 && sample % 3 == 0) {
                    for f in 0..<features { x[(sample * steps + t) * features + f] = 0 }
                }
            }
        default: break
        }
        return Tensor(x, shape: Shape([count] + shape.dimensions))
    }

    static func inputs(_ shape: Shape, count: Int, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor(
            (0..<(count * shape.elementCount)).map { _ in generator.nextUniform() * 1.2 - 0.1 }, shape: Shape([count] + shape.dimensions))
    }

    static func maximumDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    static let architectures: [(String, Architecture)] = [
        ("mlp", .preset(.mlp, inputShape: [8, 8, 1], outputs: 4, options: .init(hiddenWidths: [16, 8], batchNorm: true))),
        ("cnn", .preset(.cnn, inputShape: [12, 12, 1], outputs: 4, options: .init(batchNorm: true))),
        ("lenet5", .preset(.lenet5, inputShape: [28, 28, 1], outputs: 4)),
        (
            "file",
            Architecture(
                inputShape: [9, 9, 3],
                layers: [
                    .normalization(kind: .standardization, perChannel: true),
                    .conv2D(filters: 4, kernelSize: 3, stride: 2, padding: .same, activation: .leakyRelu(slope: 0.1)),
                    .batchNorm(momentum: 0.9, epsilon: 1e-5),
                    .maxPool2D(size: 2, stride: 1, padding: .same),
                    .avgPool2D(size: 3, stride: 1, padding: .explicit(top: 0, left: 1, bottom: 2, right: 1)),
                    .avgPool2D(size: 2, stride: 1, padding: .explicit(top: 1, left: 1, bottom: 1, right: 1), countIncludesPadding: true),
                    .activation(.elu(alpha: 0.5)),
                    .flatten, .dense(units: 6, activation: .tanh), .dropout(rate: 0.3), .batchNorm(), .dense(units: 4),
                ])
        ),
        (
            "upsampling",
            Architecture(
                inputShape: [6, 6, 2],
                layers: [
                    .conv2D(filters: 3, kernelSize: 3, stride: 2, padding: .same, activation: .relu),
                    .zeroPadding2D(top: 1, left: 0, bottom: 0, right: 1),
                    .conv2DTranspose(filters: 2, kernelSize: 3, stride: 2, padding: .same, activation: .tanh),
                    .conv2DTranspose(filters: 3, kernelSize: 2, padding: .explicit(top: 1, left: 0, bottom: 0, right: 1)),
                    .flatten, .dense(units: 12, activation: .relu), .reshape([2, 2, 3]), .conv2D(filters: 4, kernelSize: 1),
                    .globalAveragePooling2D, .dense(units: 4),
                ])
        ),
        (
            "sequence",
            Architecture(
                inputShape: [12, 3],
                layers: [
                    .conv1D(filters: 4, kernelSize: 3, padding: .same, dilation: 2, activation: .relu, weights: .init(useBias: false)),
                    .conv1D(filters: 3, kernelSize: 2, stride: 2, padding: .explicit(top: 0, left: 1, bottom: 0, right: 0)),
                    .conv1D(filters: 3, kernelSize: 4, padding: .same, activation: .tanh),
                    .locallyConnected1D(filters: 2, kernelSize: 3, activation: .elu(alpha: 1)), .flatten,
                    .maxout(units: 5, pieces: 3), .dense(units: 4, weights: .init(useBias: false)),
                ])
        ),
        (
            "options",
            Architecture(
                inputShape: [9, 8, 2],
                layers: [
                    .conv2D(
                        filters: 3, kernelSize: Extent2D(3, 2), stride: Extent2D(2, 1), padding: .same, dilation: Extent2D(1, 2),
                        activation: .relu),
                    .conv2D(filters: 3, kernelSize: 3, padding: .same, dilation: 2, weights: .init(useBias: false)),
                    .locallyConnected2D(filters: 2, kernelSize: Extent2D(2, 3), stride: Extent2D(1, 2), activation: .relu),
                    .conv2DTranspose(filters: 2, kernelSize: 3, stride: 2, outputPadding: Extent2D(1, 0), activation: .sigmoid),
                    .conv2DTranspose(filters: 2, kernelSize: Extent2D(1, 3), stride: 2, padding: .same, weights: .init(useBias: false)),
                    .locallyConnected2D(filters: 1, kernelSize: 3, stride: 3, weights: .init(useBias: false)),
                    .flatten, .dense(units: 4),
                ])
        ),
        (
            "residual",
            Architecture(
                inputShape: [8, 8, 2],
                layers: [
                    .conv2D(filters: 4, kernelSize: 3, padding: .same, weights: .init(useBias: false)),
                    .residual(body: [.batchNorm(), .activation(.relu), .conv2D(filters: 4, kernelSize: 3, padding: .same)]),
                    .residual(
                        body: [
                            .batchNorm(momentum: 0.9), .activation(.relu), .conv2D(filters: 6, kernelSize: 3, stride: 2, padding: .same),
                            .residual(body: [.conv2D(filters: 6, kernelSize: 1, activation: .tanh)]),
                        ],
                        shortcut: [.conv2D(filters: 6, kernelSize: 1, stride: 2, padding: .same, weights: .init(useBias: false))]),
                    .batchNorm(), .activation(.relu), .globalAveragePooling2D,
                    .residual(body: [.dense(units: 6, activation: .relu), .dense(units: 6)]), .dense(units: 4),
                ])
        ),
        ("resnet8", .preset(.resnet, inputShape: [12, 12, 1], outputs: 4, options: .init(width: 0.5, depth: 8))),
        ("lstm", .preset(.lstm, inputShape: [6, 5, 1], outputs: 4, options: .init(width: 0.1))),
        ("gru", .preset(.gru, inputShape: [9], outputs: 3, options: .init(width: 0.05))),
        (
            "sequence",
            Architecture(
                inputShape: [7, 3],
                layers: [
                    .masking(value: 0), .recurrent(cell: .gru, units: 6, returnSequences: true),
                    .bidirectional(.recurrent(cell: .lstm, units: 5, returnSequences: true)),
                    .timeDistributed(.dense(units: 4, activation: .relu)), .layerNorm(),
                    .bidirectional(.recurrent(cell: .tanh, units: 3, returnSequences: true, weights: .init(useBias: false)), merge: .sum),
                    .recurrent(cell: .relu, units: 4, reverse: true), .dense(units: 3),
                ])
        ),
        (
            "embedding",
            Architecture(
                inputShape: [6],
                layers: [
                    .embedding(vocabulary: 9, dimension: 4, maskZero: true), .recurrent(cell: .lstm, units: 5, returnSequences: true),
                    .recurrent(cell: .gru, units: 4, reverse: true), .dense(units: 3),
                ])
        ),
        ("graph branches", graphBranches),
        (
            "residual with masks",
            Architecture(
                inputShape: [6, 3],
                layers: [
                    .masking(value: 0),
                    .residual(body: [.recurrent(cell: .lstm, units: 3, returnSequences: true), .layerNorm()]),
                    .residual(
                        body: [.recurrent(cell: .gru, units: 4), .dense(units: 4)],
                        shortcut: [.recurrent(cell: .tanh, units: 4, reverse: true)]),
                    .dense(units: 3),
                ])
        ),
        (
            "graph with masks",
            Architecture(
                inputShape: [7, 3],
                layers: [
                    .masking(value: 0),
                    .graph(
                        GraphSpec(
                            inputs: [.init("steps")],
                            nodes: [
                                .init("a", .recurrent(cell: .lstm, units: 5, returnSequences: true), from: ["steps"]),
                                .init("b", .bidirectional(.recurrent(cell: .gru, units: 3)), from: ["steps"]),
                                .init("c", .dense(units: 5, activation: .tanh), from: ["steps"]), .init("sum", .add, from: ["c", "a"]),
                                .init("again", .masking(value: 0), from: ["sum"]),
                                .init("last", .recurrent(cell: .gru, units: 4, reverse: true), from: ["again"]),
                                .init("both", .concatenate(), from: ["last", "b"]),
                            ],
                            outputs: ["both"])),
                    .dense(units: 3),
                ])
        ),
        ("graph inputs and outputs", graphInputsAndOutputs),
        (
            "graph after normalization",
            Architecture(
                inputShape: [12],
                layers: [.normalization()] + graphInputsAndOutputs(image: [3, 3, 1]).layers)
        ),
        (
            "graph nested",
            Architecture(
                inputShape: [6],
                layers: [
                    .normalization(), .dense(units: 5, activation: .relu),
                    .graph(
                        GraphSpec(
                            inputs: [.init("h")],
                            nodes: [
                                .init("a", .dense(units: 5, activation: .tanh), from: ["h"]),
                                .init("b", .residual(body: [.dense(units: 5, activation: .relu)]), from: ["h"]),
                                .init("gate", .dense(units: 5, activation: .sigmoid), from: ["h"]),
                                .init("diff", .subtract, from: ["a", "b"]), .init("gated", .multiply, from: ["diff", "gate"]),
                                .init("both", .concatenate(), from: ["gated", "h"]),
                            ],
                            outputs: ["both", "gate"])),
                    .dense(units: 3),
                ])
        ),
        (
            "table",
            Architecture(
                inputShape: [5], layers: [.normalization(), .dense(units: 7, activation: .softplus), .batchNorm(), .dense(units: 3)])
        ),
    ]

    /// Branches of images that meet (an inception-like block, a residual sum, a gate), both layouts in one graph.
    static let graphBranches = Architecture(
        inputShape: [8, 8, 2],
        layers: [
            .graph(
                GraphSpec(
                    inputs: [.init("image")],
                    nodes: [
                        .init("narrow", .conv2D(filters: 3, kernelSize: 1, activation: .relu), from: ["image"]),
                        .init("wide", .conv2D(filters: 2, kernelSize: 3, padding: .same, activation: .relu), from: ["image"]),
                        .init("pooled", .maxPool2D(size: 3, stride: 1, padding: .same), from: ["image"]),
                        .init("joined", .concatenate(), from: ["narrow", "wide", "pooled"]),
                        .init("mixed", .conv2D(filters: 7, kernelSize: 3, padding: .same), from: ["joined"]),
                        .init("sum", .add, from: ["mixed", "joined"]), .init("norm", .batchNorm(), from: ["sum"]),
                        .init("gate", .activation(.sigmoid), from: ["norm"]), .init("gated", .multiply, from: ["gate", "sum"]),
                        .init("rows", .concatenate(axis: 0), from: ["gated", "joined"]),
                        .init("pool", .globalAveragePooling2D, from: ["rows"]), .init("class", .dense(units: 4), from: ["pool"]),
                    ],
                    outputs: ["class"]))
        ])

    /// Two inputs (an image and a vector) and two outputs (classes and a score).
    static let graphInputsAndOutputs = graphInputsAndOutputs(image: [6, 6, 1])

    static func graphInputsAndOutputs(image: Shape) -> Architecture {
        try! Architecture(graph: graphInputsAndOutputsSpec(image: image))
    }

    static func graphInputsAndOutputsSpec(image: Shape) -> GraphSpec {
        GraphSpec(
            inputs: [.init("image", image), .init("extra", [3])],
            nodes: [
                .init("conv", .conv2D(filters: 3, kernelSize: 3, activation: .relu), from: ["image"]),
                .init("flat", .flatten, from: ["conv"]), .init("side", .dense(units: 4, activation: .tanh), from: ["extra"]),
                .init("joined", .concatenate(), from: ["flat", "side"]), .init("class", .dense(units: 4), from: ["joined"]),
                .init("score", .dense(units: 1), from: ["joined"]),
            ],
            outputs: ["class", "score"])
    }

    @Test(arguments: 0..<architectures.count)
    func exportedModelsComputeTheSameInPyTorch(_ index: Int) throws {
        let (name, architecture) = Self.architectures[index]
        let folder = ModelFileTests.folder()
        let classes = try architecture.plan().outputShape.elementCount
        let model = try Self.trainedModel(architecture, seed: UInt64(index + 1), classes: classes)
        try model.save(to: folder + "/model.safetensors", metadata: ["backprop.task": "classification"])
        let export = Tool.run(["export", folder + "/model.safetensors", folder + "/pytorch"])
        #expect(export.status == 0, "\(export)")
        let x = Self.sampleInputs(architecture, count: 50, seed: 9)
        try NumPyArray(shape: x.shape.dimensions, values: x.scalars).write(to: folder + "/x.npy")
        try Self.python(["outputs", folder + "/pytorch", folder + "/x.npy", folder + "/torch.npy"])
        let theirs = try NumPyArray(contentsOf: folder + "/torch.npy")
        let ours = model.predict(x)
        #expect(theirs.shape == ours.shape.dimensions, "\(name)")
        let difference = Self.maximumDifference(theirs.tensor.softmax().scalars, ours.softmax().scalars)
        #expect(difference < 1e-5, "\(name): probabilities differ by \(difference)")
        #expect(Self.maximumDifference(theirs.values, ours.scalars) < 1e-4, "\(name): outputs differ")
    }

    @Test(arguments: 0..<architectures.count)
    func pytorchTrainedWeightsImportAndPredictTheSame(_ index: Int) throws {
        let (name, architecture) = Self.architectures[index]
        let folder = ModelFileTests.folder()
        let classes = try architecture.plan().outputShape.elementCount
        let model = try Self.trainedModel(architecture, seed: UInt64(index + 11), classes: classes)
        try model.save(to: folder + "/model.safetensors", metadata: ["backprop.task": "classification"])
        #expect(Tool.run(["export", folder + "/model.safetensors", folder + "/pytorch"]).status == 0)
        let x = Self.sampleInputs(architecture, count: 32, seed: 10)
        try NumPyArray(shape: x.shape.dimensions, values: x.scalars).write(to: folder + "/x.npy")
        try Self.python(["train", folder + "/pytorch", folder + "/x.npy", folder + "/trained"])
        for dtype in ["f32", "f16", "bf16", "f64"] {
            let result = Tool.run([
                "import", folder + "/trained.\(dtype).safetensors", "--like", folder + "/model.safetensors", "--save",
                folder + "/\(dtype).safetensors",
            ])
            #expect(result.status == 0, "\(result)")
            let (imported, _) = try Model.load(from: folder + "/\(dtype).safetensors")
            let theirs = try NumPyArray(contentsOf: folder + "/trained.\(dtype).npy")
            let ours = imported.predict(x)
            let difference = Self.maximumDifference(theirs.tensor.softmax().scalars, ours.softmax().scalars)
            #expect(difference < 1e-5, "\(name) \(dtype): probabilities differ by \(difference)")
            // The import changed the weights (PyTorch trained them).
            #expect(Self.maximumDifference(ours.scalars, model.predict(x).scalars) > 1e-3, "\(name) \(dtype)")
        }
    }

    @Test func npzExportRoundTripsThroughImport() throws {
        let (_, architecture) = Self.architectures[3]
        let folder = ModelFileTests.folder()
        let model = try Self.trainedModel(architecture, seed: 4, classes: 4)
        try model.save(to: folder + "/model.safetensors")
        #expect(Tool.run(["export", folder + "/model.safetensors", folder + "/np", "--format", "npz"]).status == 0)
        let json = folder + "/arch.json"
        try architecture.jsonData().write(to: URL(fileURLWithPath: json))
        let result = Tool.run(["import", folder + "/np/model.npz", "--model-file", json, "--save", folder + "/back.safetensors"])
        #expect(result.status == 0, "\(result)")
        let (back, _) = try Model.load(from: folder + "/back.safetensors")
        let x = Self.inputs(architecture.inputShape, count: 8, seed: 3)
        #expect(back.predict(x).scalars == model.predict(x).scalars)
    }

    @Test func badStateDictsAreNamed() throws {
        let architecture = try #require(Self.architectures.first { $0.0 == "table" }?.1)
        let module = try PyTorchModule(architecture)
        let model = try architecture.makeModel()
        let good = module.stateDict(of: model)
        let before = model.stateDict().map { $0.value.scalars }
        func refused(_ entries: [String: SafeTensors.Entry], _ text: String) {
            #expect {
                try module.load(entries, into: model, source: "w.safetensors")
            } throws: { "\($0)".contains("w.safetensors") && "\($0)".contains(text) }
        }
        var missing = good
        missing["layers.1.weight"] = nil
        refused(missing, "layers.1.weight")
        var extra = good
        extra["layers.9.weight"] = .init(shape: [1], values: [0])
        refused(extra, "layers.9.weight")
        var shape = good
        shape["layers.1.weight"] = .init(shape: [5, 7], values: [Float](repeating: 0, count: 35))
        refused(shape, "shape [7, 5]")
        var integer = good
        integer["layers.3.bias"] = .init(shape: [3], values: [0, 0, 0], dataType: .i64)
        refused(integer, "floating point")
        var counter = good
        counter["layers.2.num_batches_tracked"] = .init(shape: [], values: [0.5], dataType: .f32)
        refused(counter, "num_batches_tracked")
        #expect(model.stateDict().map { $0.value.scalars } == before, "a refused load changed the model")
        let cli = Tool.run(["import", TinyData.classificationCSV, "--model-file", TinyData.classificationCSV, "--save", "x.safetensors"])
        #expect(cli.status == 1 && cli.errorLines.count == 1, "\(cli)")
    }
}
