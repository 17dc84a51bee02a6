import ArgumentParser
import Backprop
import Foundation

/// `backprop train`: trains a preset model and reports how it does on the test split.
public struct TrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model and report its test figures.",
        discussion: """
            Prints the model summary, a progress line per epoch and the test report: loss, accuracy, top-k, \
            per-class precision/recall/F1 and the confusion matrix for classes; MAE, RMSE and R² for regression. \
            The same --seed gives an identical run. SIGINT, SIGTERM or SIGQUIT stop training after the current step.
            """)

    @OptionGroup var options: TrainingOptions

    public init() {}

    /// Data and configuration problems surface as errors that the tool prints on one line and
    /// exits non-zero with.
    public func run() throws {
        try TrainingRun(options: options).execute()
    }
}

/// `backprop summary`: prints a preset model's layers and parameter counts without training.
public struct SummaryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "summary", abstract: "Print a model's layers, output shapes and parameter counts.")

    @OptionGroup var network: ModelOptions

    @Option(
        name: .customLong("input-shape"), parsing: .unconditional,
        help: "Input shape of one sample, comma-separated (height,width,channels for the convolutional presets).")
    var inputShape: String = "28,28,1"

    @Option(name: .long, parsing: .unconditional, help: "Number of classes (outputs), 1…1048576.")
    var classes: Int = 10

    public init() {}

    public func validate() throws {
        try check(classes, "--classes", in: 1...Limits.classes)
        let shape = try parseIntegerList(inputShape, option: "--input-shape", range: 1...Limits.imagePixels, maximumCount: 4)
        guard Shape.isReasonable(shape), shape.reduce(1, *) <= Limits.imagePixels * 4 else {
            throw ValidationError("--input-shape \(inputShape) has more than \(Limits.imagePixels * 4) values per sample")
        }
    }

    public func run() throws {
        let shape = Shape(try parseIntegerList(inputShape, option: "--input-shape", range: 1...Limits.imagePixels, maximumCount: 4))
        let architecture =
            try network.modelFile.map { try Architecture(contentsOf: $0) } ?? network.architecture(inputShape: shape, outputs: classes)
        try MemoryCheck.check(try architecture.plan(), batchSize: 0, stateBuffers: 0, hint: "use fewer or narrower layers")
        let model = try architecture.makeModel()
        try model.validate()
        print(model.summary())
    }
}
