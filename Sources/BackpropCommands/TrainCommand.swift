import ArgumentParser
import Backprop
import Foundation

/// `backprop train`: trains a preset model on an IDX dataset and reports test accuracy.
public struct TrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model and print its test accuracy.",
        discussion: """
            Prints the model summary, a progress line per epoch and the final test loss and accuracy. \
            The same --seed gives an identical run.
            """)

    @OptionGroup var options: TrainingOptions

    public init() {}

    public func run() throws {
        do {
            try options.validate()
            try TrainingRun(options: options).execute()
        } catch let error as BackpropError {
            throw ValidationError(error.description)
        }
    }
}

/// `backprop summary`: prints a preset model's layers and parameter counts without training.
public struct SummaryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "summary", abstract: "Print a model's layers, output shapes and parameter counts.")

    @Option(name: .long, help: "Architecture: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelPreset = .mlp

    @Option(name: .long, help: "Hidden layer widths of the MLP, comma-separated.")
    var hidden: String = "512,256"

    @Option(name: .long, help: "Input shape of one sample, comma-separated (height,width,channels).")
    var inputShape: String = "28,28,1"

    @Option(name: .long, help: "Number of classes.")
    var classes: Int = 10

    public init() {}

    public func run() throws {
        let shape = try parseIntegers(inputShape, option: "--input-shape")
        let widths = try parseIntegers(hidden, option: "--hidden")
        print(model.makeModel(inputShape: Shape(shape), classes: classes, hiddenWidths: widths, dropout: 0).summary())
    }
}

/// Options of `backprop train`.
struct TrainingOptions: ParsableArguments {
    @Option(name: .long, help: "Architecture: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelPreset = .mlp

    @Option(name: .long, help: "Hidden layer widths of the MLP, comma-separated.")
    var hidden: String = "512,256"

    @Option(name: .long, help: "Passes over the training data.")
    var epochs: Int = 10

    @Option(name: .customLong("batch-size"), help: "Samples per optimizer step.")
    var batchSize: Int = 128

    @Option(name: .long, help: "Optimizer: \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", ")).")
    var optimizer: OptimizerChoice = .adam

    @Option(name: .long, help: "Learning rate (default 0.001 for adam, 0.01 for the SGD family).")
    var lr: Float?

    @Option(name: .long, help: "Momentum for --optimizer momentum or nesterov.")
    var momentum: Float = 0.9

    @Option(name: .long, help: "Dropout rate after each hidden layer (0 disables).")
    var dropout: Float = 0

    @Option(name: .customLong("validation-split"), help: "Fraction of the training data held out for validation after each epoch.")
    var validationSplit: Double = 0

    @Option(name: .long, help: "Random seed: fixes initialization, shuffling and dropout.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Directory with the four IDX files (raw or .gz) of an MNIST-format dataset.")
    var data: String = FashionMNIST.defaultDirectory

    @Flag(name: .long, help: "Print only the final test figures.")
    var quiet = false

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
        guard validationSplit >= 0 && validationSplit < 1 else {
            throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)")
        }
        _ = try parseIntegers(hidden, option: "--hidden")
    }
}

/// One training run as the CLI performs it.
struct TrainingRun {
    let options: TrainingOptions

    func execute() throws {
        let log: (String) -> Void = { if !options.quiet { print($0) } }
        let start = Date()
        let (train, test) = try FashionMNIST.load(from: options.data)
        log("Loaded \(train.count) training and \(test.count) test samples from \(options.data) in \(String(format: "%.2f", Date().timeIntervalSince(start)))s")
        seedGlobalRandom(options.seed)
        let sampleShape = Shape(Array(train.inputs.shape.dimensions.dropFirst()))
        let model = options.model.makeModel(
            inputShape: sampleShape, classes: 10, hiddenWidths: try parseIntegers(options.hidden, option: "--hidden"),
            dropout: options.dropout)
        log(model.summary())
        let optimizer = options.optimizer.make(learningRate: options.lr, momentum: options.momentum)
        model.compile(optimizer: optimizer, loss: .softmaxCrossEntropy, metrics: [.accuracy])
        log("Training with \(options.optimizer.rawValue) (lr \(optimizer.learningRate)), batch \(options.batchSize), seed \(options.seed) on \(Backends.current.name)")
        let fitStart = Date()
        model.fit(
            train.inputs, train.labels, batchSize: options.batchSize, epochs: options.epochs,
            validationSplit: options.validationSplit, seed: options.seed, verbose: !options.quiet)
        let trainSeconds = Date().timeIntervalSince(fitStart)
        let result = model.evaluate(test.inputs, test.labels)
        log(String(format: "Trained in %.1fs (%.0f samples/s)", trainSeconds,
                   Double(train.count) * Double(options.epochs) * (1 - options.validationSplit) / trainSeconds))
        print(String(format: "Test loss: %.4f - test accuracy: %.4f", result["loss"] ?? .nan, result["accuracy"] ?? .nan))
    }
}

/// "512,256" → [512, 256], with an error naming the option for anything else.
func parseIntegers(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Int($0) }
    guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0 > 0 }) else {
        throw ValidationError("\(option) must be positive integers separated by commas, got \"\(text)\"")
    }
    return values
}
