import Backprop
import Foundation
import Testing

@testable import BackpropCommands

/// Activation maximization, saliency and integrated gradients on a CNN trained on Fashion-MNIST,
/// and the `visualize` command that writes them.
@Suite(.serialized)
struct FeatureVisualizationTests {
    /// A small CNN trained on 3,000 Fashion-MNIST images (2 epochs), saved as a model file.
    nonisolated(unsafe) static let trained: (model: Model, path: String, test: LabeledData) = {
        let (train, test) = try! FashionMNIST.load()
        let count = 3000
        seedGlobalRandom(1)
        let model = try! Architecture.preset(.cnn, inputShape: [28, 28, 1], outputs: 10, options: .init(width: 0.25)).makeModel()
        model.compile(optimizer: Adam(learningRate: 2e-3), loss: SoftmaxCrossEntropy())
        model.fit(train.inputs.slice([0..<count]), train.labels.slice([0..<count]), batchSize: 64, epochs: 2, seed: 1, verbose: false)
        let path = TinyData.root + "/visualize-cnn-\(UUID().uuidString).safetensors"
        let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        let json = String(decoding: try! JSONSerialization.data(withJSONObject: names), as: UTF8.self)
        try! model.save(to: path, metadata: ["backprop.task": "classification", "backprop.class_names": json])
        return (model, path, LabeledData(inputs: test.inputs.slice([0..<16]), labels: test.labels.slice([0..<16])))
    }()

    /// The bar: the image made for each class is that class with p > 0.9 for the model.
    @Test func everyClassGetsAnImageTheModelIsSureOf() throws {
        let visualization = FeatureVisualization(model: Self.trained.model)
        var options = FeatureVisualization.Options()  // the command's defaults
        for k in 0..<10 {
            options.seed = UInt64(k)
            let image = try visualization.maximize(.classProbability(k), options: options)
            #expect(image.shape == [28, 28, 1] && image.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
            let p = visualization.probabilities(image.reshaped([1, 28, 28, 1])).scalars[k]
            #expect(p > 0.9, "class \(k): p = \(p)")
        }
    }

    @Test func channelsOfInnerLayersCanBeMaximized() throws {
        let visualization = FeatureVisualization(model: Self.trained.model)
        var options = FeatureVisualization.Options()
        options.steps = 24
        let start = try visualization.maximize(
            .channel(layer: "layers.2", index: 1),
            options: {
                var o = options
                o.steps = 1
                return o
            }())
        let image = try visualization.maximize(.channel(layer: "layers.2", index: 1), options: options)
        func activation(_ x: Tensor) throws -> Float {
            // The channel's mean, read through the same recording the monitors use.
            try visualization.channelMean(x, layer: "layers.2", channel: 1)
        }
        #expect(try activation(image) > activation(start))
        #expect(throws: BackpropError.self) { try visualization.maximize(.channel(layer: "layers.99", index: 0), options: options) }
        #expect(throws: BackpropError.self) { try visualization.maximize(.channel(layer: "layers.2", index: 999), options: options) }
    }

    @Test func integratedGradientsAddUpToTheChangeOfTheLogProbability() throws {
        let visualization = FeatureVisualization(model: Self.trained.model)
        let x = Self.trained.test.inputs.slice([0..<2])
        let classes = [Int(Self.trained.test.labels.scalars[0]), Int(Self.trained.test.labels.scalars[1])]
        let attributions = try visualization.integratedGradients(of: x, classes: classes, steps: 64)
        #expect(attributions.shape == [2, 28, 28])
        for row in 0..<2 {
            let total = attributions.scalars[(row * 784)..<((row + 1) * 784)].reduce(0, +)
            let logP = log(visualization.probabilities(x.slice([row..<(row + 1), 0..<28, 0..<28, 0..<1])).scalars[classes[row]])
            let logP0 = log(visualization.probabilities(Tensor.zeros([1, 28, 28, 1])).scalars[classes[row]])
            // Completeness (Sundararajan et al.): Σ attributions = log p(x) − log p(0), up to the 64-point path.
            #expect(abs(total - (logP - logP0)) < 0.05 * max(1, abs(logP - logP0)), "row \(row): \(total) vs \(logP - logP0)")
        }
        let saliency = try visualization.saliency(of: x, classes: classes)
        #expect(saliency.shape == [2, 28, 28] && saliency.scalars.allSatisfy { $0 >= 0 } && saliency.scalars.contains { $0 > 0 })
    }

    @Test func theCommandWritesThePictures() throws {
        let folder = TinyData.root + "/visualize-\(UUID().uuidString)"
        let result = Tool.run([
            "visualize", "--model", Self.trained.path, "--output", folder, "--classes", "0,7", "--steps", "96", "--layer", "layers.0",
            "--channels", "3", "--samples", "4",
        ])
        #expect(result.status == 0, "\(result)")
        for file in [
            "classes.png", "classes.npy", "channels.png", "filters.png", "attribution.png", "saliency.npy", "integrated-gradients.npy",
        ] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "\(file) missing")
        }
        #expect(result.standardOutput.contains("[0] T-shirt/top: p = ") && result.standardOutput.contains("[7] Sneaker: p = "))
        let classes = try NumPyArray(contentsOf: folder + "/classes.npy")
        #expect(classes.shape == [2, 28, 28, 1])
        let picture = try PNGImage(contentsOf: folder + "/attribution.png")
        #expect(picture.width > 3 * 28 * 3 && picture.height > 4 * 28 * 3)
        let bad = Tool.run(["visualize", "--model", Self.trained.path, "--output", folder, "--classes", "12", "--samples", "0"])
        #expect(bad.status != 0 && bad.errorLines.count == 1 && bad.standardError.contains("--classes"), "\(bad)")
        let layer = Tool.run([
            "visualize", "--model", Self.trained.path, "--output", folder, "--classes", "none", "--layer", "dense", "--samples", "0",
        ])
        #expect(layer.status != 0 && layer.standardError.contains("--layer dense"), "\(layer)")
    }
}
