import Backprop
import Foundation
import Testing

/// A model with two inputs (an image and a vector) and two outputs (a class and a value), each
/// with its own loss and weight: it learns both, reports each, and keeps working through model
/// files, checkpoints with exact resume, and the monitors.
struct MultiOutputTests {
    static let architecture = try! Architecture(
        graph: GraphSpec(
            inputs: [.init("image", [4, 4, 1]), .init("extra", [2])],
            nodes: [
                .init("conv", .conv2D(filters: 4, kernelSize: 3, padding: .same, activation: .relu), from: ["image"]),
                .init("flat", .flatten, from: ["conv"]), .init("seen", .dense(units: 16, activation: .relu), from: ["flat"]),
                .init("side", .dense(units: 8, activation: .tanh), from: ["extra"]),
                .init("joined", .concatenate(), from: ["seen", "side"]),
                .init("shared", .dense(units: 16, activation: .relu), from: ["joined"]),
                .init("class", .dense(units: 2), from: ["shared"]), .init("value", .dense(units: 1), from: ["shared"]),
            ],
            outputs: ["class", "value"]))

    /// class = [mean(image) + extra₀ / 2 > 0.5], value = extra₀ − 2·extra₁ + mean(image): each
    /// output needs both inputs.
    static func data(count: Int, seed: UInt64) -> (images: Tensor, extras: Tensor, labels: Tensor, values: Tensor) {
        var generator = RandomGenerator(seed: seed)
        var images: [Float] = []
        var extras: [Float] = []
        var labels: [Float] = []
        var values: [Float] = []
        for _ in 0..<count {
            let image = (0..<16).map { _ in generator.nextUniform() }
            let extra = [generator.nextUniform() * 2 - 1, generator.nextUniform() * 2 - 1]
            let mean = image.reduce(0, +) / 16
            images += image
            extras += extra
            labels.append(mean + extra[0] / 2 > 0.5 ? 1 : 0)
            values.append(extra[0] - 2 * extra[1] + mean)
        }
        return (
            Tensor(images, shape: [count, 4, 4, 1]), Tensor(extras, shape: [count, 2]), Tensor(labels, shape: [count]),
            Tensor(values, shape: [count, 1])
        )
    }

    static func compiledModel(seed: UInt64 = 3) throws -> Model {
        seedGlobalRandom(seed)
        let model = try architecture.makeModel()
        model.compile(
            optimizer: Adam(learningRate: 1e-2), losses: [SoftmaxCrossEntropy(), MeanSquaredError()], lossWeights: [1, 0.5],
            metrics: [[.accuracy], []])
        return model
    }

    @Test func bothOutputsLearnAndEachIsReported() throws {
        let model = try Self.compiledModel()
        #expect(model.inputPorts == [.init("image", [4, 4, 1]), .init("extra", [2])])
        #expect(model.outputPorts == [.init("class", [2]), .init("value", [1])])
        let train = Self.data(count: 384, seed: 1)
        let test = Self.data(count: 128, seed: 2)
        let history = model.fit(
            [train.images, train.extras], [train.labels, train.values], batchSize: 32, epochs: 25,
            validationData: ([test.images, test.extras], [test.labels, test.values]), seed: 4, verbose: false)
        for name in ["loss", "class_loss", "value_loss", "class_accuracy", "val_class_accuracy", "val_value_loss"] {
            #expect(history[name].count == 25, "\(name)")
        }
        #expect(history["value_loss"].last! < history["value_loss"].first! / 5, "\(history["value_loss"])")
        #expect(history["class_loss"].last! < history["class_loss"].first! / 2, "\(history["class_loss"])")
        let logs = model.evaluate([test.images, test.extras], [test.labels, test.values])
        #expect(logs["class_accuracy"]! > 0.85, "\(logs)")
        #expect(logs["value_loss"]! < 0.05, "\(logs)")
        // The total is the weighted sum of the outputs' losses.
        #expect(abs(logs["loss"]! - (logs["class_loss"]! + 0.5 * logs["value_loss"]!)) < 1e-4 * max(1, logs["loss"]!), "\(logs)")
        // predict gives one tensor per output: what the graph computes on the inputs themselves.
        let outputs = model.predict([test.images, test.extras])
        #expect(outputs.map(\.shape) == [[128, 2], [128, 1]])
        let graph = try #require(model.network as? Graph)
        let direct = withoutGradient { graph([test.images, test.extras]) }
        #expect(outputs[0].scalars == direct[0].scalars && outputs[1].scalars == direct[1].scalars)
        #expect(model.outputs(of: model.predict(model.packed(inputs: [test.images, test.extras])))["value"]!.scalars == outputs[1].scalars)
    }

    /// Three outputs with the classifier in the middle: each loss sees its own columns.
    @Test func threeOutputsInAnyOrder() throws {
        seedGlobalRandom(2)
        let graph = try Graph(
            inputs: [.init("features", [3])],
            nodes: [
                .init("hidden", Dense(3, 8, activation: .tanh), from: ["features"]), .init("first", Dense(8, 2), from: ["hidden"]),
                .init("class", Dense(8, 3), from: ["hidden"]), .init("last", Dense(8, 1), from: ["hidden"]),
            ],
            outputs: ["first", "class", "last"])
        let model = Model(graph: graph)
        model.compile(
            optimizer: Adam(learningRate: 1e-2), losses: [MeanAbsoluteError(), SoftmaxCrossEntropy(), MeanSquaredError()],
            lossWeights: [0.25, 2, 1])
        var generator = RandomGenerator(seed: 7)
        let x = Tensor.randomNormal([40, 3], generator: &generator)
        let first = Tensor.randomNormal([40, 2], generator: &generator)
        let labels = Tensor((0..<40).map { Float($0 % 3) }, shape: [40])
        let last = Tensor.randomNormal([40, 1], generator: &generator)
        let logs = model.evaluate([x], [first, labels, last])
        // Each output's loss by hand, from the outputs predict gives.
        let outputs = model.predict([x])
        let mae = Double((outputs[0] - first).abs().mean().item)
        let crossEntropy = Double(SoftmaxCrossEntropy()(outputs[1], labels).item)
        let mse = Double((outputs[2] - last).squared().mean().item)
        #expect(
            abs(logs["first_loss"]! - mae) < 1e-5 && abs(logs["class_loss"]! - crossEntropy) < 1e-5 && abs(logs["last_loss"]! - mse) < 1e-5)
        #expect(abs(logs["loss"]! - (0.25 * mae + 2 * crossEntropy + mse)) < 1e-4, "\(logs)")
    }

    @Test func modelFilesKeepTheGraph() throws {
        let model = try Self.compiledModel()
        let train = Self.data(count: 64, seed: 1)
        model.fit([train.images, train.extras], [train.labels, train.values], batchSize: 16, epochs: 2, verbose: false)
        let path = ModelFileTests.folder() + "/graph.safetensors"
        try model.save(to: path)
        let (loaded, _) = try Model.load(from: path)
        #expect(loaded.architecture == Self.architecture)
        #expect(loaded.namedParameters.map(\.name).prefix(2) == ["layers.0.weight", "layers.0.bias"])
        let x = model.packed(inputs: [train.images, train.extras])
        #expect(loaded.predict(x).scalars.map(\.bitPattern) == model.predict(x).scalars.map(\.bitPattern))
        #expect(loaded.summary().contains("joined (Concatenate) ← seen, side"))
    }

    @Test func aResumedRunEndsWithTheSameWeights() throws {
        let folder = ModelFileTests.folder()
        let data = Self.data(count: 96, seed: 1)
        func run(_ directory: String, from checkpoint: TrainingCheckpoint? = nil) throws -> Model {
            let model = try Self.compiledModel()
            let dataset = TensorDataset(
                inputs: model.packed(inputs: [data.images, data.extras]), targets: model.packed(targets: [data.labels, data.values]))
            let loader = DataLoader(dataset, batchSize: 16, shuffle: true, seed: 5)
            let checkpoints = try ModelCheckpoint(directory: directory, everySteps: 4, keepLast: 100)
            try model.fit(loader, epochs: 3, callbacks: [checkpoints], verbose: false, resumingFrom: checkpoint)
            return model
        }
        let full = try run(folder + "/full")
        let files = ModelCheckpoint.checkpoints(in: folder + "/full")
        let middle = try #require(files.first { !$0.end && $0.epoch == 2 })
        let resumed = try run(folder + "/again", from: try TrainingCheckpoint(contentsOf: folder + "/full/" + middle.name))
        #expect(ResumeTests.bits(resumed) == ResumeTests.bits(full))
    }

    /// Monitors see every node of the graph by its path (layer outputs after the forward pass).
    @Test func monitorsSeeEveryNode() throws {
        let model = try Self.compiledModel()
        let data = Self.data(count: 32, seed: 1)
        let monitor = TrainingMonitor(every: 1)
        model.fit([data.images, data.extras], [data.labels, data.values], batchSize: 16, epochs: 1, callbacks: [monitor], verbose: false)
        let sample = try #require(monitor.samples.first)
        #expect(sample.layers.map(\.path) == (0..<8).map { "layers.\($0)" })
        #expect(sample.layers.map(\.type).contains("Concatenate"))
        #expect(sample.layers.first { $0.path == "layers.0" }?.reluZeroFraction != nil)
        #expect(sample.parameters.count == model.namedParameters.count)
    }
}
