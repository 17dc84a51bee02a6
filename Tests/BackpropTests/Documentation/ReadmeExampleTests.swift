import Backprop
import Foundation
import Testing

/// The README's Swift example, on a slice of the data so it runs in a moment: if the API it shows
/// changes, this stops compiling.
struct ReadmeExampleTests {
    @Test func firstModelExampleRuns() throws {
        let (fullTrain, fullTest) = try FashionMNIST.load()
        let train = LabeledData(inputs: fullTrain.inputs.slice([0..<640]), labels: fullTrain.labels.slice([0..<640]))
        let test = LabeledData(inputs: fullTest.inputs.slice([0..<200]), labels: fullTest.labels.slice([0..<200]))
        seedGlobalRandom(42)
        let model = Model(inputShape: [28, 28, 1]) {
            Conv2D(1, 32, kernelSize: 3, padding: .same, activation: .relu)
            MaxPool2D(2)
            Flatten()
            Dense(14 * 14 * 32, 128, activation: .relu, kernelRegularizer: .l2(1e-4))
            Dropout(rate: 0.3)
            Dense(128, 10)
        }
        #expect(model.summary().contains("Total params"))
        model.compile(optimizer: AdamW(learningRate: 1e-3), loss: .softmaxCrossEntropy, metrics: [.accuracy])
        let history = model.fit(
            train.inputs, train.labels, batchSize: 64, epochs: 2, validationSplit: 0.1, seed: 42,
            callbacks: [ReduceLROnPlateau(patience: 2, verbose: false), EarlyStopping(patience: 3, restoreBestWeights: true)],
            verbose: false)
        #expect(history.epochs.count == 2)
        #expect(model.evaluate(test.inputs, test.labels)["accuracy"]! > 0.5)

        let x = Tensor([1, 2, 3]).requiringGradient()
        (x * x).sum().backward()
        #expect(x.gradient!.scalars == [2, 4, 6])
        #expect(checkGradients(of: { $0[0].tanh() }, at: [Tensor.randomNormal([3, 4])]).passed)
    }
}

/// The README's graph example (two inputs, two outputs with weighted losses) on a slice of
/// Fashion-MNIST, the image's mean brightness as the second input and as the value to predict.
struct ReadmeGraphExampleTests {
    @Test func graphExampleRuns() throws {
        let (fullTrain, _) = try FashionMNIST.load()
        let images = fullTrain.inputs.slice([0..<256])
        let labels = fullTrain.labels.slice([0..<256])
        let sizes = images.mean(alongAxes: [1, 2, 3]).reshaped([256, 1])
        let values = sizes * 2
        let architecture = try Architecture(
            graph: GraphSpec(
                inputs: [.init("image", [28, 28, 1]), .init("size", [1])],
                nodes: [
                    .init("conv", .conv2D(filters: 16, kernelSize: 3, activation: .relu), from: ["image"]),
                    .init("flat", .flatten, from: ["conv"]),
                    .init("joined", .concatenate(), from: ["flat", "size"]),
                    .init("class", .dense(units: 10), from: ["joined"]),
                    .init("value", .dense(units: 1), from: ["joined"]),
                ],
                outputs: ["class", "value"]))
        let model = try architecture.makeModel()
        model.compile(
            optimizer: Adam(), losses: [SoftmaxCrossEntropy(), MeanSquaredError()], lossWeights: [1, 0.5], metrics: [[.accuracy], []])
        let history = model.fit([images, sizes], [labels, values], epochs: 2, verbose: false)
        #expect(history["class_accuracy"].count == 2 && history["value_loss"].count == 2)
        let outputs = model.predict([images, sizes])
        #expect(outputs.map(\.shape) == [[256, 10], [256, 1]])
    }
}

/// The architecture files in examples/architectures read, fit Fashion-MNIST's 28×28×1 images and
/// 10 classes, and build.
struct ExampleArchitectureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/architectures").path

    @Test func everyExampleReadsAndBuilds() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count >= 2)
        for file in files {
            let architecture = try Architecture(contentsOf: Self.folder + "/" + file)
            #expect(architecture.inputShape == [28, 28, 1], "\(file)")
            #expect(try architecture.plan().outputShape == [10], "\(file)")
            let model = try architecture.makeModel()
            #expect(model.predict(Tensor.zeros([2, 28, 28, 1])).shape == [2, 10], "\(file)")
        }
    }
}
