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

    @Option(name: .long, help: "Width multiplier of the VGG preset's channels and dense layers.")
    var width: Double = 1

    @Option(name: .long, help: "Input shape of one sample, comma-separated (height,width,channels).")
    var inputShape: String = "28,28,1"

    @Option(name: .long, help: "Number of classes.")
    var classes: Int = 10

    public init() {}

    public func run() throws {
        let shape = try parseIntegers(inputShape, option: "--input-shape")
        let widths = try parseIntegers(hidden, option: "--hidden")
        print(model.makeModel(inputShape: Shape(shape), classes: classes, hiddenWidths: widths, width: width).summary())
    }
}

/// Options of `backprop train`.
struct TrainingOptions: ParsableArguments {
    @Option(name: .long, help: "Architecture: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelPreset = .mlp

    @Option(name: .long, help: "Hidden layer widths of the MLP, comma-separated.")
    var hidden: String = "512,256"

    @Option(name: .long, help: "Width multiplier of the VGG preset's channels and dense layers.")
    var width: Double = 1

    @Option(name: .customLong("epochs"), help: "Passes over the training data (default 10; 5 for cnn).")
    var epochsOption: Int?

    @Option(name: .customLong("batch-size"), help: "Samples per optimizer step, the starting size under --batch-schedule (default 128; 64 for cnn and vgg).")
    var batchSizeOption: Int?

    /// Epochs: the option, or the preset's default.
    var epochs: Int { epochsOption ?? (model == .cnn ? 5 : 10) }
    /// Batch size: the option, or the preset's default.
    var batchSize: Int { batchSizeOption ?? (model == .cnn || model == .vgg ? 64 : 128) }

    @Option(name: .long, help: "Optimizer: \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", ")).")
    var optimizer: OptimizerChoice = .adam

    @Option(name: .long, help: "Learning rate (default 0.001 for adam and adamw, 0.01 otherwise).")
    var lr: Float?

    @Option(name: .long, help: "Momentum for --optimizer momentum or nesterov.")
    var momentum: Float = 0.9

    @Option(name: .customLong("weight-decay"), help: "Weight decay: an L2 term in the gradient, decoupled for adamw (default 0, adamw 0.01).")
    var weightDecay: Float?

    @Option(name: .long, help: "L2 penalty λ·Σw² on every weight matrix, added to the reported loss.")
    var l2: Float = 0

    @Option(name: .customLong("clip-norm"), help: "Rescale gradients whose global L2 norm exceeds this.")
    var clipNorm: Float?

    @Option(name: .long, help: "Dropout rate after each hidden layer (0 disables).")
    var dropout: Float = 0

    @Option(name: .customLong("lr-schedule"), help: "Learning-rate schedule: \(ScheduleChoice.allCases.map(\.rawValue).joined(separator: ", ")). linear ends at lr/100, exponential decays to lr/100, step multiplies by --decay-factor at --milestones, cosine (the default) anneals to 0 over the run, invsqrt decays as 1/√t after the first epoch, plateau is ReduceLROnPlateau.")
    var lrSchedule: ScheduleChoice = .cosine

    @Option(name: .long, help: "Epochs of linear learning-rate warm-up before the schedule.")
    var warmup: Int = 0

    @Option(name: .long, help: "Epochs (1-based) at which step schedules change the learning rate or the batch size, comma-separated.")
    var milestones: String = "4,7"

    @Option(name: .customLong("decay-factor"), help: "Learning-rate factor for step and plateau schedules; the batch schedule grows the batch by its inverse.")
    var decayFactor: Float = 0.5

    @Option(name: .long, help: "Epochs without improvement before plateau schedules act.")
    var patience: Int = 2

    @Option(name: .customLong("batch-schedule"), help: "Batch-size schedule with the learning rate held: none, step (batch ÷ --decay-factor at --milestones), plateau (doubles on plateau).")
    var batchSchedule: BatchScheduleChoice = .none

    @Option(name: .customLong("early-stop"), help: "Stop when the monitored loss has not improved for this many epochs, restoring the best weights.")
    var earlyStop: Int?

    @Option(name: .customLong("validation-split"), help: "Fraction of the training data held out for validation after each epoch (monitored by plateau and early stopping when > 0).")
    var validationSplit: Double = 0

    @Option(name: .customLong("csv-log"), help: "Write one CSV row per epoch to this file.")
    var csvLog: String?

    @Option(name: .long, help: "Random seed: fixes initialization, shuffling and dropout.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Directory with the four IDX files (raw or .gz) of an MNIST-format dataset.")
    var data: String = FashionMNIST.defaultDirectory

    @Flag(name: .long, help: "Print only the final test figures.")
    var quiet = false

    func validate() throws {
        guard width > 0 && width <= 4 else { throw ValidationError("--width must be in (0, 4], got \(width)") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        if let weightDecay, !(weightDecay >= 0) { throw ValidationError("--weight-decay must be ≥ 0, got \(weightDecay)") }
        guard l2 >= 0 else { throw ValidationError("--l2 must be ≥ 0, got \(l2)") }
        if let clipNorm, !(clipNorm > 0) { throw ValidationError("--clip-norm must be > 0, got \(clipNorm)") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
        guard warmup >= 0 && warmup < epochs else { throw ValidationError("--warmup must be in 0..<\(epochs) epochs, got \(warmup)") }
        guard decayFactor > 0 && decayFactor < 1 else { throw ValidationError("--decay-factor must be in (0, 1), got \(decayFactor)") }
        guard patience >= 0 else { throw ValidationError("--patience must be ≥ 0, got \(patience)") }
        if let earlyStop, earlyStop < 0 { throw ValidationError("--early-stop must be ≥ 0, got \(earlyStop)") }
        guard validationSplit >= 0 && validationSplit < 1 else {
            throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)")
        }
        _ = try parseIntegers(hidden, option: "--hidden")
        _ = try parseIntegers(milestones, option: "--milestones")
    }

    /// The value plateau schedules and early stopping watch.
    var monitoredValue: String { validationSplit > 0 ? "val_loss" : "loss" }
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
            dropout: options.dropout, l2: options.l2, width: options.width)
        log(model.summary())
        let weightDecay = options.weightDecay ?? (options.optimizer == .adamw ? 0.01 : 0)
        let optimizer = options.optimizer.make(learningRate: options.lr, momentum: options.momentum, weightDecay: weightDecay)
        optimizer.clipNorm = options.clipNorm
        model.compile(optimizer: optimizer, loss: .softmaxCrossEntropy, metrics: [.accuracy])
        let trainCount = train.count - Int((Double(train.count) * options.validationSplit).rounded())
        let callbacks = try makeCallbacks(baseLearningRate: optimizer.learningRate, trainCount: trainCount)
        log("Training with \(options.optimizer.rawValue) (lr \(optimizer.learningRate)\(options.lrSchedule == .constant ? "" : ", \(options.lrSchedule.rawValue) schedule")), batch \(options.batchSize), seed \(options.seed) on \(Backends.current.name)")
        let fitStart = Date()
        let history = model.fit(
            train.inputs, train.labels, batchSize: options.batchSize, epochs: options.epochs,
            validationSplit: options.validationSplit, seed: options.seed, callbacks: callbacks, verbose: !options.quiet)
        let trainSeconds = Date().timeIntervalSince(fitStart)
        let result = model.evaluate(test.inputs, test.labels)
        log(String(format: "Trained %d epochs in %.1fs (%.0f samples/s)", history.epochs.count, trainSeconds,
                   Double(trainCount) * Double(history.epochs.count) / trainSeconds))
        print(String(format: "Test loss: %.4f - test accuracy: %.4f", result["loss"] ?? .nan, result["accuracy"] ?? .nan))
    }

    private func makeCallbacks(baseLearningRate lr: Float, trainCount: Int) throws -> [any Callback] {
        var callbacks: [any Callback] = [TerminateOnNaN()]
        let steps = (trainCount + options.batchSize - 1) / options.batchSize
        let total = steps * options.epochs
        let warmupSteps = options.warmup * steps
        let milestones = try parseIntegers(options.milestones, option: "--milestones").sorted()
        let schedule: LearningRateSchedule? = switch options.lrSchedule {
        case .constant: options.warmup > 0 ? .constant(lr) : nil
        case .linear: .linear(initial: lr, final: lr / 100, steps: total - warmupSteps)
        case .exponential: .exponential(initial: lr, rate: 0.01, steps: total - warmupSteps)
        case .step:
            .piecewise(boundaries: milestones.map { ($0 - 1) * steps - warmupSteps },
                       values: (0...milestones.count).map { lr * pow(options.decayFactor, Float($0)) })
        case .cosine: .cosine(initial: lr, period: total - warmupSteps)
        case .invsqrt: .inverseSquareRoot(initial: lr, steps: steps)
        case .plateau: options.warmup > 0 ? .constant(lr) : nil
        }
        if let schedule { callbacks.append(LearningRateScheduler(schedule.withWarmup(steps: warmupSteps), unit: .step)) }
        if options.lrSchedule == .plateau {
            callbacks.append(ReduceLROnPlateau(monitor: options.monitoredValue, factor: options.decayFactor, patience: options.patience))
        }
        switch options.batchSchedule {
        case .none: break
        case .step:
            var sizes: [Int: Int] = [:]
            for (index, epoch) in milestones.enumerated() {
                sizes[epoch] = Int((Float(options.batchSize) / pow(options.decayFactor, Float(index + 1))).rounded())
            }
            callbacks.append(BatchSizeScheduler(.milestones(sizes)))
        case .plateau:
            callbacks.append(BatchSizeScheduler(.onPlateau(monitor: options.monitoredValue, factor: 2, patience: options.patience, maximum: 8192)))
        }
        if let patience = options.earlyStop {
            callbacks.append(EarlyStopping(monitor: options.monitoredValue, patience: patience, restoreBestWeights: true))
        }
        if let path = options.csvLog { callbacks.append(try CSVLogger(path: path)) }
        return callbacks
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
