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

    /// Data and configuration problems surface as `BackpropError`s, which the tool prints as
    /// "Error: <file>: <field>: expected …, found …" and exits non-zero.
    public func run() throws {
        try options.validate()
        try TrainingRun(options: options).execute()
    }
}

/// `backprop summary`: prints a preset model's layers and parameter counts without training.
public struct SummaryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "summary", abstract: "Print a model's layers, output shapes and parameter counts.")

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
        let built = model.makeModel(inputShape: Shape(shape), classes: classes, hiddenWidths: widths, width: width)
        try built.validate()
        print(built.summary())
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

    @Option(
        name: .customLong("batch-size"),
        help: "Samples per optimizer step, the starting size under --batch-schedule (default 128; 64 for cnn and vgg).")
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

    @Option(
        name: .customLong("weight-decay"), help: "Weight decay: an L2 term in the gradient, decoupled for adamw (default 0, adamw 0.01).")
    var weightDecay: Float?

    @Option(name: .long, help: "L2 penalty λ·Σw² on every weight matrix, added to the reported loss.")
    var l2: Float = 0

    @Option(name: .customLong("clip-norm"), help: "Rescale gradients whose global L2 norm exceeds this.")
    var clipNorm: Float?

    @Option(name: .long, help: "Dropout rate after each hidden layer (0 disables).")
    var dropout: Float = 0

    @Option(
        name: .customLong("lr-schedule"),
        help:
            "Learning-rate schedule: \(ScheduleChoice.allCases.map(\.rawValue).joined(separator: ", ")). linear ends at lr/100, exponential decays to lr/100, step multiplies by --decay-factor at --milestones, cosine (the default) anneals to 0 over the run, invsqrt decays as 1/√t after the first epoch, plateau is ReduceLROnPlateau."
    )
    var lrSchedule: ScheduleChoice = .cosine

    @Option(name: .long, help: "Epochs of linear learning-rate warm-up before the schedule.")
    var warmup: Int = 0

    @Option(name: .long, help: "Epochs (1-based) at which step schedules change the learning rate or the batch size, comma-separated.")
    var milestones: String = "4,7"

    @Option(
        name: .customLong("decay-factor"),
        help: "Learning-rate factor for step and plateau schedules; the batch schedule grows the batch by its inverse.")
    var decayFactor: Float = 0.5

    @Option(name: .long, help: "Epochs without improvement before plateau schedules act.")
    var patience: Int = 2

    @Option(
        name: .customLong("batch-schedule"),
        help:
            "Batch-size schedule with the learning rate held: none, step (batch ÷ --decay-factor at --milestones), plateau (doubles on plateau)."
    )
    var batchSchedule: BatchScheduleChoice = .none

    @Option(
        name: .customLong("early-stop"),
        help: "Stop when the monitored loss has not improved for this many epochs, restoring the best weights.")
    var earlyStop: Int?

    @Option(
        name: .customLong("validation-split"),
        help: "Fraction of the training data held out for validation after each epoch (monitored by plateau and early stopping when > 0).")
    var validationSplit: Double = 0

    @Option(name: .customLong("csv-log"), help: "Write one CSV row per epoch to this file.")
    var csvLog: String?

    @Option(name: .long, help: "Random seed: fixes initialization, shuffling and dropout.")
    var seed: UInt64 = 0

    @Option(
        name: .long,
        help:
            "Training data: a folder of IDX files (MNIST format, raw or .gz), a CIFAR-10/100 binary folder, a folder of class sub-folders of PNGs, a .csv or an .npz file. The format is detected from the contents."
    )
    var data: String = FashionMNIST.defaultDirectory

    @Option(name: .long, help: "Force the data format: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: DataFormat = .auto

    @Option(name: .customLong("label-column"), help: "CSV label column, by header name or 0-based index (default: the last column).")
    var labelColumn: String?

    @Option(
        name: .customLong("image-size"),
        help: "Resize the images of a PNG folder to HEIGHT,WIDTH (otherwise all must have the first image's size).")
    var imageSize: String?

    @Option(
        name: .customLong("test-split"),
        help: "Fraction held out as the test split for data that has none (CSV, .npz with x and y, image folders).")
    var testSplit: Double = 0.2

    @Flag(name: .long, help: "Keep class proportions in the validation split.")
    var stratify = false

    @Option(
        name: .long,
        help:
            "Input normalization fitted on the training split: auto (standard for CSV and .npz feature tables, none for images), none, standard, minmax."
    )
    var normalize: String = "auto"

    @Option(name: .long, help: "Prepare the next batch on a background thread: auto (when augmenting or reading from disk), on, off.")
    var prefetch: String = "auto"

    @Option(
        name: .long, help: "On-the-fly image augmentation, e.g. flip,shift:2,erase (also vflip, rotate:DEGREES, noise:SIGMA, erase:SIZE).")
    var augment: String?

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
        guard testSplit > 0 && testSplit < 1 else { throw ValidationError("--test-split must be in (0, 1), got \(testSplit)") }
        guard ["auto", "none", "standard", "minmax"].contains(normalize) else {
            throw ValidationError("--normalize must be auto, none, standard or minmax, got \(normalize)")
        }
        if let augment { _ = try Augmentation(parsing: augment) }
        if let imageSize, try parseIntegers(imageSize, option: "--image-size").count != 2 {
            throw ValidationError("--image-size must be HEIGHT,WIDTH, got \(imageSize)")
        }
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
        let size = try options.imageSize.map { try parseIntegers($0, option: "--image-size") }.map { (height: $0[0], width: $0[1]) }
        let data = try loadData(
            path: options.data, format: options.format, labelColumn: options.labelColumn,
            testSplit: options.testSplit, seed: options.seed, imageSize: size)
        var train: any Dataset = data.train
        var validation: (any Dataset)?
        if options.validationSplit > 0 {
            let (kept, held) = try train.split(holdingOut: options.validationSplit, stratified: options.stratify, seed: options.seed &+ 1)
            (train, validation) = (kept, held)
        }
        log(
            "Loaded \(data.description) from \(options.data): \(train.count) training, \(validation?.count ?? 0) validation and \(data.test.count) test samples of shape \(train.inputShape) in \(String(format: "%.2f", Date().timeIntervalSince(start)))s"
        )
        if options.model != .mlp && train.inputShape.rank != 3 {
            throw ValidationError(
                "--model \(options.model.rawValue) needs images [height, width, channels], but the samples have shape \(train.inputShape); use --model mlp"
            )
        }
        seedGlobalRandom(options.seed)
        let model = try makeModel(inputShape: train.inputShape, classes: data.classes, training: train)
        try model.validate()
        log(model.summary())
        let weightDecay = options.weightDecay ?? (options.optimizer == .adamw ? 0.01 : 0)
        let optimizer = options.optimizer.make(learningRate: options.lr, momentum: options.momentum, weightDecay: weightDecay)
        optimizer.clipNorm = options.clipNorm
        model.compile(optimizer: optimizer, loss: .softmaxCrossEntropy, metrics: [.accuracy])
        let callbacks = try makeCallbacks(baseLearningRate: optimizer.learningRate, trainCount: train.count)
        let augmentation = try options.augment.map { try Augmentation(parsing: $0) }
        let loader = DataLoader(
            train, batchSize: options.batchSize, shuffle: true, seed: options.seed, augmentation: augmentation,
            prefetch: options.prefetch == "auto" ? augmentation != nil || !(train is TensorDataset) : options.prefetch == "on")
        log(
            "Training with \(options.optimizer.rawValue) (lr \(optimizer.learningRate)\(options.lrSchedule == .constant ? "" : ", \(options.lrSchedule.rawValue) schedule")), batch \(options.batchSize)\(augmentation.map { ", augmentation \($0)" } ?? ""), seed \(options.seed) on \(Backends.current.name)"
        )
        let fitStart = Date()
        let history = try model.fit(
            loader, validation: validation.map { DataLoader($0, batchSize: 256) }, epochs: options.epochs, callbacks: callbacks,
            verbose: !options.quiet)
        let trainSeconds = Date().timeIntervalSince(fitStart)
        let result = try model.evaluate(DataLoader(data.test, batchSize: 256))
        log(
            String(
                format: "Trained %d epochs in %.1fs (%.0f samples/s)", history.epochs.count, trainSeconds,
                Double(train.count) * Double(history.epochs.count) / trainSeconds))
        print(String(format: "Test loss: %.4f - test accuracy: %.4f", result["loss"] ?? .nan, result["accuracy"] ?? .nan))
    }

    /// The preset, behind a Normalization layer fitted on the training split when asked for.
    private func makeModel(inputShape: Shape, classes: Int, training: any Dataset) throws -> Model {
        let preset = options.model.makeModel(
            inputShape: inputShape, classes: classes, hiddenWidths: try parseIntegers(options.hidden, option: "--hidden"),
            dropout: options.dropout, l2: options.l2, width: options.width)
        let kind: Normalization.Kind? =
            switch options.normalize {
            case "standard": .standardization
            case "minmax": .minMax
            case "auto": inputShape.rank == 1 ? .standardization : nil
            default: nil
            }
        guard let kind else { return preset }
        let normalization = Normalization(inputShape: inputShape, kind: kind, perChannel: inputShape.rank == 3)
        normalization.adapt(try training.materialized().inputs)
        let layers = (preset.network as? Sequential)?.layers ?? [preset.network]
        return Model(inputShape: inputShape, Sequential([normalization] + layers))
    }

    private func makeCallbacks(baseLearningRate lr: Float, trainCount: Int) throws -> [any Callback] {
        var callbacks: [any Callback] = [TerminateOnNaN()]
        let steps = (trainCount + options.batchSize - 1) / options.batchSize
        let total = steps * options.epochs
        let warmupSteps = options.warmup * steps
        let milestones = try parseIntegers(options.milestones, option: "--milestones").sorted()
        let schedule: LearningRateSchedule? =
            switch options.lrSchedule {
            case .constant: options.warmup > 0 ? .constant(lr) : nil
            case .linear: .linear(initial: lr, final: lr / 100, steps: total - warmupSteps)
            case .exponential: .exponential(initial: lr, rate: 0.01, steps: total - warmupSteps)
            case .step:
                .piecewise(
                    boundaries: milestones.map { ($0 - 1) * steps - warmupSteps },
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
            callbacks.append(
                BatchSizeScheduler(.onPlateau(monitor: options.monitoredValue, factor: 2, patience: options.patience, maximum: 8192)))
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
