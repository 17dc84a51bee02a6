import ArgumentParser
import Backprop
import Foundation

/// Options of `backprop train`. Everything that can be checked without the data is checked while
/// the arguments are parsed (`validate`), with a one-line message naming the option.
struct TrainingOptions: ParsableArguments {
    @OptionGroup var network: ModelOptions

    @Option(name: .customLong("epochs"), parsing: .unconditional, help: "Passes over the training data (default 10; 5 for cnn).")
    var epochsOption: Int?

    @Option(
        name: .customLong("batch-size"), parsing: .unconditional,
        help: "Samples per optimizer step, the starting size under --batch-schedule (default 128; 64 for cnn and vgg).")
    var batchSizeOption: Int?

    /// Epochs: the option, or the preset's default.
    var epochs: Int { epochsOption ?? (network.model == .cnn ? 5 : 10) }
    /// Batch size: the option, or the preset's default.
    var batchSize: Int { batchSizeOption ?? (network.model == .cnn || network.model == .vgg ? 64 : 128) }

    // MARK: What is learned

    @Option(name: .long, help: "What the targets are: auto (regression for non-integer numbers), classification, regression.")
    var task: Task = .auto

    @Option(
        name: .long,
        help:
            "Loss: auto (cross-entropy for classes, mse for regression), cross-entropy, bce (2 classes or targets in [0, 1]), mse, mae, huber."
    )
    var loss: LossChoice = .auto

    @Option(
        name: .customLong("huber-delta"), parsing: .unconditional, help: "Where --loss huber turns from quadratic to linear (default 1).")
    var huberDelta: Float?

    // MARK: Optimization

    @Option(name: .long, help: "Optimizer: \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", ")).")
    var optimizer: OptimizerChoice = .adam

    @Option(name: .long, parsing: .unconditional, help: "Learning rate (default 0.001 for adam and adamw, 0.01 otherwise).")
    var lr: Float?

    @Option(name: .long, parsing: .unconditional, help: "Momentum for --optimizer momentum, nesterov (default 0.9) or rmsprop (default 0).")
    var momentum: Float?

    @Option(name: .long, parsing: .unconditional, help: "Adam's β1, the decay of the gradient mean (default 0.9).")
    var beta1: Float?

    @Option(name: .long, parsing: .unconditional, help: "Adam's β2, the decay of the squared-gradient mean (default 0.999).")
    var beta2: Float?

    @Option(name: .long, parsing: .unconditional, help: "ε added to the denominator of adam, adamw, rmsprop and adagrad.")
    var epsilon: Float?

    @Flag(name: .long, help: "AMSGrad: adam and adamw divide by the running maximum of the second moment.")
    var amsgrad = false

    @Option(name: .long, parsing: .unconditional, help: "RMSProp's decay ρ of the squared-gradient mean (default 0.99).")
    var rho: Float?

    @Flag(name: .long, help: "Centered RMSProp (divides by the gradient's estimated variance).")
    var centered = false

    @Option(
        name: .customLong("weight-decay"), parsing: .unconditional,
        help: "Weight decay: an L2 term in the gradient, decoupled for adamw (default 0, adamw 0.01).")
    var weightDecay: Float?

    @Option(name: .customLong("clip-norm"), parsing: .unconditional, help: "Rescale gradients whose global L2 norm exceeds this.")
    var clipNorm: Float?

    @Option(name: .customLong("clip-value"), parsing: .unconditional, help: "Clamp every gradient element to [−v, v].")
    var clipValue: Float?

    // MARK: Schedules and stopping

    @Option(
        name: .customLong("lr-schedule"),
        help:
            "Learning-rate schedule: \(ScheduleChoice.allCases.map(\.rawValue).joined(separator: ", ")). linear ends at lr/100, exponential decays to lr/100, step multiplies by --decay-factor at --milestones, cosine (the default) anneals to 0 over the run, invsqrt decays as 1/√t after the first epoch, plateau is ReduceLROnPlateau."
    )
    var lrSchedule: ScheduleChoice = .cosine

    @Option(name: .long, parsing: .unconditional, help: "Epochs of linear learning-rate warm-up before the schedule.")
    var warmup: Int = 0

    @Option(
        name: .long, parsing: .unconditional,
        help: "Epochs (1-based) at which step schedules change the learning rate or the batch size, comma-separated (default 4,7).")
    var milestones: String?

    @Option(
        name: .customLong("decay-factor"), parsing: .unconditional,
        help:
            "Learning-rate factor in (0, 1) for step and plateau schedules (default 0.5); the step batch schedule grows the batch by its inverse."
    )
    var decayFactor: Float?

    @Option(name: .long, parsing: .unconditional, help: "Epochs without improvement before plateau schedules act (default 2).")
    var patience: Int?

    @Option(
        name: .customLong("batch-schedule"),
        help:
            "Batch-size schedule with the learning rate held: none, step (batch ÷ --decay-factor at --milestones), plateau (doubles on plateau)."
    )
    var batchSchedule: BatchScheduleChoice = .none

    @Option(
        name: .customLong("early-stop"), parsing: .unconditional,
        help: "Stop when the monitored loss has not improved for this many epochs, restoring the best weights.")
    var earlyStop: Int?

    // MARK: Data

    @Option(
        name: .long,
        help:
            "Training data: a folder of IDX files (MNIST format, raw or .gz), a CIFAR-10/100 binary folder, a folder of class sub-folders of PNGs, a .csv, an .npz, or an .npy of features with --labels. The format is detected from the contents."
    )
    var data: String = FashionMNIST.defaultDirectory

    @Option(name: .long, help: "Force the data format: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: DataFormat = .auto

    @Option(name: .long, help: "Targets of --data FILE.npy: a .npy of class labels [N] or regression targets [N] or [N, K].")
    var labels: String?

    @Option(name: .customLong("label-column"), help: "CSV label column, by header name or 0-based index (default: the last column).")
    var labelColumn: String?

    @Option(
        name: .customLong("image-size"), parsing: .unconditional,
        help: "Resize the images of a PNG folder to HEIGHT,WIDTH (otherwise all must have the first image's size).")
    var imageSize: String?

    @Option(
        name: .customLong("test-split"), parsing: .unconditional,
        help: "Fraction held out as the test split for data that has none (CSV, .npz with x and y, .npy, image folders); default 0.2.")
    var testSplitOption: Double?

    var testSplit: Double { testSplitOption ?? 0.2 }

    @Option(
        name: .customLong("validation-split"), parsing: .unconditional,
        help: "Fraction of the training data held out for validation after each epoch (monitored by plateau and early stopping when > 0).")
    var validationSplit: Double = 0

    @Flag(name: .long, help: "Keep class proportions in the validation split.")
    var stratify = false

    @Option(
        name: .long,
        help:
            "Input normalization fitted on the training split: auto (standard for CSV and NumPy feature tables, none for images), none, standard, minmax."
    )
    var normalize: NormalizeChoice = .auto

    @Option(name: .long, help: "Prepare the next batch on a background thread: auto (when augmenting or reading from disk), on, off.")
    var prefetch: PrefetchChoice = .auto

    @Option(
        name: .long, help: "On-the-fly image augmentation, e.g. flip,shift:2,erase (also vflip, rotate:DEGREES, noise:SIGMA, erase:SIZE).")
    var augment: String?

    @Option(
        name: .customLong("only-classes"),
        help: "Train and test on these classes only (indices or names, comma-separated), numbered in this order.")
    var onlyClasses: String?

    @Option(
        name: .customLong("train-samples"), parsing: .unconditional,
        help: "Train on this many training samples, drawn with --seed (spread evenly over the classes).")
    var trainSamples: Int?

    @Option(
        name: .long,
        help: "Transfer learning: start from this model file; its last dense layer is replaced by a new head for the data's classes.")
    var from: String?

    @Option(
        name: .customLong("freeze-until"),
        help:
            "With --from: freeze layers 0 through this one (an index, layers.N, or a layer type such as flatten or conv2d for the last of that type; none: nothing). Default: the convolutional base through its flatten, or all but the head."
    )
    var freezeUntil: String?

    @Option(
        name: .customLong("unfreeze-after"), parsing: .unconditional,
        help: "With --from: after this many epochs of training the head, unfreeze the frozen layers and fine-tune them too.")
    var unfreezeAfter: Int?

    @Option(
        name: .customLong("fine-tune-lr-scale"), parsing: .unconditional,
        help: "With --unfreeze-after: the unfrozen layers train at this multiple of the learning rate (default 0.1).")
    var fineTuneLRScale: Float?

    @Option(name: .long, parsing: .unconditional, help: "With --from: the new head's classes (must be the data's; default: the data's).")
    var classes: Int?

    @Option(name: .customLong("class-names"), help: "Names of the classes in label order, comma-separated, for the report.")
    var classNames: String?

    // MARK: Output and machine

    @Option(
        name: .customLong("top-k"), parsing: .unconditional,
        help: "Also report top-k accuracy (default 5 when there are more than 5 classes).")
    var topK: Int?

    @Option(name: .customLong("csv-log"), help: "Write one CSV row per epoch to this file.")
    var csvLog: String?

    @Option(
        name: .long,
        help:
            "Watch training: TensorBoard event files (train/, validation/), report.html (refreshed every epoch), history.csv and history.jsonl in this folder."
    )
    var logdir: String?

    @Option(
        name: .customLong("monitor-every"), parsing: .unconditional,
        help: "With --logdir: steps between samples of activation, gradient and update statistics (default 100).")
    var monitorEvery: Int = 100

    @Option(
        name: .long,
        help:
            "Write the trained model to this file (safetensors weights with the architecture, preprocessing and class names in its metadata)."
    )
    var save: String?

    @Option(
        name: .long,
        help:
            "Name of the run: its folder runs/NAME holds the model (without --save) and the checkpoints (without --checkpoint-dir). Default: the model and the time."
    )
    var name: String?

    @Option(
        name: .customLong("checkpoint-dir"),
        help: "Write checkpoints (weights and the whole training state) here after every epoch (default: runs/NAME/checkpoints).")
    var checkpointDir: String?

    @Option(
        name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Also write a checkpoint every N steps.")
    var checkpointEvery: Int?

    @Option(name: .customLong("keep-checkpoints"), parsing: .unconditional, help: "Checkpoints kept, newest first (default 2).")
    var keepCheckpoints: Int = 2

    @Option(
        name: .long,
        help:
            "Continue an interrupted run from the newest checkpoint in this folder (a run folder, a checkpoint folder or one checkpoint file), with the options it was started with; it ends with the weights an uninterrupted run would have."
    )
    var resume: String?

    @Option(name: .long, parsing: .unconditional, help: "Threads for the kernels and oneDNN (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Random seed: fixes initialization, shuffling, dropout and augmentation.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print only the final test figures.")
    var quiet = false

    func validate() throws {
        try check(epochs, "--epochs", in: 1...Limits.epochs)
        try check(batchSize, "--batch-size", in: 1...Limits.batchSize)
        if let lr { try check(lr, "--lr", "a positive number") { $0 > 0 } }
        if let momentum {
            try check(momentum, "--momentum", "in [0, 1)") { $0 >= 0 && $0 < 1 }
            guard optimizer.usesMomentum else {
                throw ValidationError("--momentum applies to --optimizer momentum, nesterov and rmsprop, not \(optimizer.rawValue)")
            }
        }
        for (value, name) in [(beta1, "--beta1"), (beta2, "--beta2")] {
            guard let value else { continue }
            try check(value, name, "in [0, 1)") { $0 >= 0 && $0 < 1 }
            guard optimizer.isAdam else {
                throw ValidationError("\(name) applies to --optimizer adam and adamw, not \(optimizer.rawValue)")
            }
        }
        if amsgrad && !optimizer.isAdam {
            throw ValidationError("--amsgrad applies to --optimizer adam and adamw, not \(optimizer.rawValue)")
        }
        if let epsilon {
            try check(epsilon, "--epsilon", "a positive number") { $0 > 0 }
            guard optimizer.isAdam || optimizer == .rmsprop || optimizer == .adagrad else {
                throw ValidationError("--epsilon applies to adam, adamw, rmsprop and adagrad, not \(optimizer.rawValue)")
            }
        }
        if rho != nil || centered {
            guard optimizer == .rmsprop else {
                throw ValidationError("--rho and --centered apply to --optimizer rmsprop, not \(optimizer.rawValue)")
            }
            if let rho { try check(rho, "--rho", "in [0, 1)") { $0 >= 0 && $0 < 1 } }
        }
        if let weightDecay { try check(weightDecay, "--weight-decay", "a number ≥ 0") { $0 >= 0 } }
        if let clipNorm { try check(clipNorm, "--clip-norm", "a positive number") { $0 > 0 } }
        if let clipValue { try check(clipValue, "--clip-value", "a positive number") { $0 > 0 } }
        if let huberDelta {
            try check(huberDelta, "--huber-delta", "a positive number") { $0 > 0 }
            guard loss == .huber else { throw ValidationError("--huber-delta applies to --loss huber") }
        }
        try check(warmup, "--warmup", in: 0...(epochs - 1))
        if let milestones {
            _ = try parseIntegerList(milestones, option: "--milestones", range: 1...Limits.epochs)
            guard lrSchedule == .step || batchSchedule == .step else {
                throw ValidationError("--milestones applies to --lr-schedule step and --batch-schedule step")
            }
        }
        if let decayFactor {
            try check(decayFactor, "--decay-factor", "in (0, 1)") { $0 > 0 && $0 < 1 }
            guard [.step, .plateau].contains(lrSchedule) || batchSchedule == .step else {
                throw ValidationError("--decay-factor applies to --lr-schedule step or plateau and --batch-schedule step")
            }
        }
        if let patience {
            try check(patience, "--patience", in: 0...Limits.epochs)
            guard lrSchedule == .plateau || batchSchedule == .plateau else {
                throw ValidationError(
                    "--patience applies to --lr-schedule plateau and --batch-schedule plateau (early stopping has --early-stop N)")
            }
        }
        _ = try batchSizes()
        if let earlyStop { try check(earlyStop, "--early-stop", in: 0...Limits.epochs) }
        try check(validationSplit, "--validation-split", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        if stratify && validationSplit == 0 { throw ValidationError("--stratify applies to --validation-split, which is 0") }
        if let testSplitOption { try check(testSplitOption, "--test-split", "in (0, 1)") { $0 > 0 && $0 < 1 } }
        if let augment { _ = try parseAugmentation(augment) }
        if let imageSize { _ = try parseImageSize(imageSize) }
        if let topK { try check(topK, "--top-k", in: 1...Limits.classes) }
        if let threads { try check(threads, "--threads", in: 1...Limits.threads) }
        if let trainSamples { try check(trainSamples, "--train-samples", in: 1...Int(Int32.max)) }
        if let onlyClasses, onlyClasses.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--only-classes needs a value, got an empty one")
        }
        if from == nil {
            for (given, name) in [
                (freezeUntil != nil, "--freeze-until"), (unfreezeAfter != nil, "--unfreeze-after"),
                (fineTuneLRScale != nil, "--fine-tune-lr-scale"),
                (classes != nil, "--classes"),
            ] where given {
                throw ValidationError("\(name) applies to transfer learning (--from MODEL)")
            }
        } else {
            if let clash = network.givenOptions.first {
                throw ValidationError("\(clash) describes a new network; with --from the network is the model's (with a new head)")
            }
            if from!.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--from needs a value, got an empty one") }
            if let unfreezeAfter { try check(unfreezeAfter, "--unfreeze-after", in: 0...(epochs - 1)) }
            if let fineTuneLRScale {
                try check(fineTuneLRScale, "--fine-tune-lr-scale", "a positive number") { $0 > 0 }
                guard unfreezeAfter != nil else { throw ValidationError("--fine-tune-lr-scale applies with --unfreeze-after") }
            }
            if let classes { try check(classes, "--classes", in: 2...Limits.classes) }
        }
        if let checkpointEvery { try check(checkpointEvery, "--checkpoint-every", in: 1...Limits.epochs * 1000) }
        try check(keepCheckpoints, "--keep-checkpoints", in: 1...1000)
        try check(monitorEvery, "--monitor-every", in: 1...1_000_000)
        if let name {
            guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\0") else {
                throw ValidationError.option("--name", "a folder name (no '/')", got: name)
            }
        }
        if let classNames, parseClassNames(classNames).isEmpty {
            throw ValidationError.option("--class-names", "names separated by commas", got: classNames)
        }
        for (value, name) in [
            (data, "--data"), (labels, "--labels"), (csvLog, "--csv-log"), (labelColumn, "--label-column"), (save, "--save"),
            (checkpointDir, "--checkpoint-dir"), (resume, "--resume"), (logdir, "--logdir"),
        ] {
            if let value, value.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("\(name) needs a value, got an empty one")
            }
        }
        if labels != nil && format != .auto && format != .npy { throw ValidationError("--labels applies to --format npy") }
    }

    /// The monitored value of plateau schedules and early stopping.
    var monitoredValue: String { validationSplit > 0 ? "val_loss" : "loss" }

    /// The milestones (1-based epochs within the run, sorted, duplicates merged).
    func milestoneEpochs() throws -> [Int] {
        Array(Set(try parseIntegerList(milestones ?? "4,7", option: "--milestones", range: 1...Limits.epochs).filter { $0 <= epochs }))
            .sorted()
    }

    /// The batch size of every epoch the step batch schedule reaches, checked against the limit.
    func batchSizes() throws -> [Int: Int] {
        guard batchSchedule == .step else { return [:] }
        let factor = Double(decayFactor ?? 0.5)
        var sizes: [Int: Int] = [:]
        for (index, epoch) in try milestoneEpochs().enumerated() {
            let size = (Double(batchSize) / pow(factor, Double(index + 1))).rounded()
            guard size <= Double(Limits.batchSize) else {
                throw ValidationError(
                    "--decay-factor \(factor) with --batch-schedule step grows the batch to \(size) samples at epoch \(epoch); at most \(Limits.batchSize)"
                )
            }
            sizes[epoch] = Int(size)
        }
        return sizes
    }

    /// The largest batch any epoch uses.
    var largestBatch: Int {
        switch batchSchedule {
        case .none: batchSize
        case .step: max(batchSize, (try? batchSizes().values.max()) ?? batchSize)
        case .plateau: max(batchSize, BatchScheduleLimit.plateauMaximum)
        }
    }
}

/// The batch size the plateau batch schedule grows to at most.
enum BatchScheduleLimit {
    static let plateauMaximum = 8_192
}

/// "flip,shift:2" with every number in a sensible range; the CLI's names in the errors.
func parseAugmentation(_ text: String) throws -> Augmentation {
    guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw ValidationError("--augment needs a list such as flip,shift:2,erase; got an empty value")
    }
    if text.split(separator: ",", omittingEmptySubsequences: false).contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
        throw ValidationError.option("--augment", "augmentations separated by single commas", got: text)
    }
    do {
        return try Augmentation(parsing: text)
    } catch let error as BackpropError {
        throw ValidationError("--augment: \(error)")
    }
}

/// "HEIGHT,WIDTH", each side at most 65,536 and at most 2^26 pixels in all.
func parseImageSize(_ text: String) throws -> (height: Int, width: Int) {
    let sides = try parseIntegerList(text, option: "--image-size", range: 1...Limits.imageSide)
    guard sides.count == 2 else { throw ValidationError.option("--image-size", "HEIGHT,WIDTH", got: text) }
    guard sides[0] * sides[1] <= Limits.imagePixels else {
        throw ValidationError("--image-size \(text) is \(sides[0] * sides[1]) pixels per image; at most \(Limits.imagePixels)")
    }
    return (sides[0], sides[1])
}

/// "a, b ,c" → ["a", "b", "c"]; empty when any name is empty.
func parseClassNames(_ text: String) -> [String] {
    let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    return names.contains(where: \.isEmpty) ? [] : names
}
