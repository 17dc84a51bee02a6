import ArgumentParser
import Backprop
import Foundation

/// `backprop visualize`: what a trained model learned and what its decisions depend on, as PNG grids.
public struct VisualizeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Feature visualization and attribution for a saved model.",
        discussion: """
            Writes into --output: classes.png (one input per class made by gradient ascent on log p(class), with L2, \
            jitter and blur regularization; the model's probability for each is printed), channels.png with --layer \
            (inputs that excite each channel of that layer), filters.png (the first convolution's filters), and \
            attribution.png for the first --samples samples of --data: each row the input, its saliency map \
            |∂ log p / ∂ x| and its integrated gradients, for the predicted class. Raw arrays go beside as .npy.
            """)

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Folder for the pictures (created; default: visualization).")
    var output: String = "visualization"

    @Option(name: .long, help: "Classes to maximize: all, none, or indices such as 0,3,7 (default all).")
    var classes: String = "all"

    @Option(name: .long, help: "A layer path (as in summaries: layers.0) whose channels to maximize.")
    var layer: String?

    @Option(name: .long, parsing: .unconditional, help: "With --layer: how many channels, from the first (default 8).")
    var channels: Int = 8

    @Option(name: .long, parsing: .unconditional, help: "Gradient-ascent steps per image (default 256).")
    var steps: Int = 256

    @Option(name: .long, parsing: .unconditional, help: "Samples of --data for the attribution maps (default 8; 0: none).")
    var samples: Int = 8

    @Option(name: .long, parsing: .unconditional, help: "Seed of the starting noise and the jitter.")
    var seed: UInt64 = 0

    public init() {}

    public func validate() throws {
        try check(steps, "--steps", in: 1...100_000)
        try check(channels, "--channels", in: 1...4096)
        try check(samples, "--samples", in: 0...1024)
        if !["all", "none"].contains(classes) { _ = try parseIntegerList(classes, option: "--classes", range: 0...Limits.classes) }
        guard !output.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--output needs a value, got an empty one")
        }
        if let layer, layer.isEmpty { throw ValidationError("--layer needs a value, got an empty one") }
    }

    public func run() throws {
        try input.applyThreads()
        let saved = try SavedModel(path: input.model)
        guard saved.task == .classification, saved.outputs >= 2 else {
            throw ValidationError("visualize needs a classifier with 2 or more classes; \(input.model) is a \(saved.task.rawValue) model")
        }
        do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
            throw BackpropError.unwritable(path: output, reason: "--output: \(error.localizedDescription)")
        }
        let visualization = FeatureVisualization(model: saved.model)
        var options = FeatureVisualization.Options()
        options.steps = steps
        options.seed = seed
        let shape = saved.model.inputShape
        let isImage = shape.rank == 3 && [1, 3].contains(shape[2])
        let wanted =
            classes == "all"
            ? Array(0..<saved.outputs)
            : classes == "none" ? [] : try parseIntegerList(classes, option: "--classes", range: 0...Limits.classes)
        if let bad = wanted.first(where: { $0 >= saved.outputs }) {
            throw ValidationError.option("--classes", "indices below the model's \(saved.outputs) classes", got: "\(bad)")
        }
        if !wanted.isEmpty {
            var images: [Tensor] = []
            print("Activation maximization, \(steps) steps per class; the model's probability for each image:")
            for k in wanted {
                var itemOptions = options
                itemOptions.seed = seed &+ UInt64(k)
                let image = try visualization.maximize(.classProbability(k), options: itemOptions)
                images.append(image)
                let p = visualization.probabilities(image.reshaped(Shape([1] + shape.dimensions))).scalars[k]
                print(String(format: "  [%d] %@: p = %.4f", k, saved.classNames[k], p))
            }
            try write(images, name: "classes", isImage: isImage)
        }
        if let layer {
            var images: [Tensor] = []
            for channel in 0..<channels {
                var itemOptions = options
                itemOptions.seed = seed &+ UInt64(channel)
                do {
                    images.append(try visualization.maximize(.channel(layer: layer, index: channel), options: itemOptions))
                } catch BackpropError.invalidArgument(
                    let name, let expected, let found)
                {
                    if name == "channel" && channel > 0 { break }
                    throw ValidationError("--layer \(layer): \(name) \(found) is not \(expected)")
                }
            }
            try write(images, name: "channels", isImage: isImage)
            print("Wrote \(output)/channels.png: \(images.count) channels of \(layer)")
        }
        if let (path, image) = MonitorImages.firstLayerFilters(of: saved.model) {
            try image.write(to: output + "/filters.png")
            print("Wrote \(output)/filters.png: the filters of \(path)")
        }
        if samples > 0 {
            let data = try input.load(for: saved, labelled: false)
            let count = min(samples, data.data.count)
            guard count > 0 else { return }
            let stream = DataLoader(data.data, batchSize: count, prefetch: false).batches(epoch: 0)
            defer { stream.cancel() }
            guard let (x, _) = try stream.next() else { return }
            let probabilities = visualization.probabilities(x)
            let predicted = (0..<count).map { row in
                (0..<saved.outputs).max {
                    probabilities.scalars[row * saved.outputs + $0] < probabilities.scalars[row * saved.outputs + $1]
                }!
            }
            let saliency = try visualization.saliency(of: x, classes: predicted)
            let integrated = try visualization.integratedGradients(of: x, classes: predicted)
            try NumPyArray(shape: saliency.shape.dimensions, values: saliency.scalars).write(to: output + "/saliency.npy")
            try NumPyArray(shape: integrated.shape.dimensions, values: integrated.scalars).write(to: output + "/integrated-gradients.npy")
            if isImage {
                let (h, w) = (shape[0], shape[1])
                var cells: [Float] = []
                for row in 0..<count {
                    let sample = x.slice([row..<(row + 1)] + shape.dimensions.map { 0..<$0 }).scalars
                    var gray = sample
                    if shape[2] == 3 {
                        gray = stride(from: 0, to: sample.count, by: 3).map { (i: Int) -> Float in
                            let total: Float = sample[i] + sample[i + 1] + sample[i + 2]
                            return total / 3
                        }
                    }
                    cells += MonitorImages.rescaled(gray)
                    cells += MonitorImages.rescaled(Array(saliency.scalars[(row * h * w)..<((row + 1) * h * w)]))
                    cells += MonitorImages.rescaled(Array(integrated.scalars[(row * h * w)..<((row + 1) * h * w)]).map(abs))
                }
                try PNGImage.grid(Tensor(cells, shape: [count * 3, h, w, 1]), columns: 3, scale: 3).write(to: output + "/attribution.png")
            }
            print("Attribution for the first \(count) samples of \(input.data) (input | saliency | |integrated gradients|), predicted:")
            for (row, k) in predicted.enumerated() {
                print(
                    String(
                        format: "  %@: %@ (p = %.4f)", data.names[row], saved.classNames[k], probabilities.scalars[row * saved.outputs + k])
                )
            }
            print("Wrote \(output)/\(isImage ? "attribution.png, " : "")saliency.npy and integrated-gradients.npy")
        }
    }

    private func write(_ images: [Tensor], name: String, isImage: Bool) throws {
        guard let first = images.first else { return }
        let stacked = Tensor.concatenate(images.map { $0.reshaped(Shape([1] + first.shape.dimensions)) }, alongAxis: 0)
        try NumPyArray(shape: stacked.shape.dimensions, values: stacked.scalars).write(to: output + "/\(name).npy")
        guard isImage else { return }
        let shown = images.map { MonitorImages.rescaled($0.scalars) }.flatMap { $0 }
        try PNGImage.grid(Tensor(shown, shape: stacked.shape), columns: min(10, images.count), scale: 3).write(to: output + "/\(name).png")
        print("Wrote \(output)/\(name).png and \(name).npy")
    }
}
