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
    public func run() throws { try run(arguments: Invocation.arguments(after: "train")) }

    /// Runs with the command's own arguments (stored so the run can be resumed).
    func run(arguments: [String]) throws {
        guard let folder = options.resume else {
            try TrainingRun(options: options, arguments: arguments).execute()
            return
        }
        // The resumed run takes every option from the checkpoint; only how it runs may change.
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            switch name {
            case "--resume", "--threads": index += argument.contains("=") ? 1 : 2
            case "--quiet": index += 1
            default:
                throw ValidationError(
                    "--resume continues the run with the options it was started with; \(name) cannot be given with it (only --threads and --quiet)"
                )
            }
        }
        let (path, checkpoint) = try Self.latestCheckpoint(folder)
        guard let json = checkpoint.metadata[TrainingRun.argumentsKey],
            let stored = try? JSONDecoder().decode([String].self, from: Data(json.utf8))
        else {
            throw BackpropError.malformed(
                path: path, field: "__metadata__.\(TrainingRun.argumentsKey)",
                expected: "the arguments of the run (a JSON list of strings)",
                found: checkpoint.metadata[TrainingRun.argumentsKey] ?? "nothing")
        }
        var resumed: TrainingOptions
        do {
            resumed = try TrainingOptions.parse(stored)
        } catch {
            throw BackpropError.malformed(
                path: path, field: "__metadata__.\(TrainingRun.argumentsKey)", expected: "train options",
                found: "\(stored.joined(separator: " ")): \(TrainingOptions.message(for: error))")
        }
        resumed.quiet = options.quiet || resumed.quiet
        if let threads = options.threads { resumed.threads = threads }
        try TrainingRun(options: resumed, arguments: stored, resume: (checkpoint, path)).execute()
    }

    /// The checkpoint `--resume` names: a checkpoint file, or the newest readable one in a
    /// checkpoint folder or in a run folder's `checkpoints/`.
    static func latestCheckpoint(_ location: String) throws -> (path: String, checkpoint: TrainingCheckpoint) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location, isDirectory: &isDirectory) else {
            throw BackpropError.fileNotFound(path: location)
        }
        guard isDirectory.boolValue else { return (location, try TrainingCheckpoint(contentsOf: location)) }
        // The folder itself, or a run folder's checkpoints/.
        for folder in [location, location + "/checkpoints"] {
            guard let newest = ModelCheckpoint.checkpoints(in: folder).last else { continue }
            guard let latest = ModelCheckpoint.latest(in: folder) else {
                // None reads: say why the newest does not.
                return (folder + "/" + newest.name, try TrainingCheckpoint(contentsOf: folder + "/" + newest.name))
            }
            for problem in latest.skipped { print("Skipped a checkpoint that does not read: \(problem)") }
            return (latest.path, latest.checkpoint)
        }
        throw BackpropError.malformed(
            path: location, field: "checkpoints", expected: "epoch-….safetensors files (here or in checkpoints/)", found: "none")
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

/// `backprop finetune`: transfer learning — train on new data from a saved model with a new head.
public struct FinetuneCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Transfer learning: train a saved model's layers with a new head on new data.",
        discussion: """
            The model of --from keeps its layers and weights (normalization included); its last dense layer is replaced \
            by a new one for the data's classes. Layers up to --freeze-until are frozen (their batch norm uses and keeps \
            its running statistics); --unfreeze-after N trains the head alone for N epochs, then everything, the unfrozen \
            layers at --fine-tune-lr-scale × the learning rate. Every train option applies (data, optimizer, schedules, \
            checkpoints, --resume).
            """)

    @OptionGroup var options: TrainingOptions

    public init() {}

    public func validate() throws {
        guard options.from != nil || options.resume != nil else {
            throw ValidationError("finetune needs --from MODEL (the model to start from)")
        }
    }

    public func run() throws {
        var command = TrainCommand()
        command.options = options
        try command.run(arguments: Invocation.arguments(after: "finetune"))
    }
}
