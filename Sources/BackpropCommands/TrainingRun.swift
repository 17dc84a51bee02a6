import ArgumentParser
import Backprop
import Foundation

/// A failed run that is not a bad option: training diverged, or was interrupted.
struct RunFailure: Error, CustomStringConvertible {
    let description: String
    /// The process's exit status.
    let exitCode: Int32
}

/// Everything a run needs, made by ``TrainingRun/prepare()``: the data, the model, how it is
/// trained. `train` fits it; `doctor`, `tune` and `finetune` are meant to reuse the same steps.
struct PreparedRun {
    let data: LoadedData
    let train: any Dataset
    let validation: (any Dataset)?
    let test: any Dataset
    let architecture: Architecture
    let model: Model
    let optimizer: Optimizer
    let loss: any Loss
    let callbacks: [any Callback]
    let terminateOnNaN: TerminateOnNaN
    let loader: DataLoader
    /// Regression targets are standardized per column on the training split; predictions are
    /// mapped back with these for the report.
    let targetScaling: (mean: [Float], deviation: [Float])?
    let classNames: [String]
    let topK: Int?
    /// Writes the checkpoints (last among the callbacks, so it saves what every other one did).
    let checkpoints: ModelCheckpoint
    /// Where the model goes: --save, or runs/NAME/model.safetensors.
    let modelPath: String
    /// The arguments that repeat this run (`--name` included), kept in every file it writes.
    let arguments: [String]
    /// What `--resume` takes to continue this run: the run folder, or --checkpoint-dir.
    let resumeLocation: String
    /// Lines for the log about how the model was made (transfer learning).
    let notes: [String]
    /// With --logdir: the HTML report (the test set's confusion matrix joins it at the end).
    let report: RunReport?
}

/// What a run produced.
struct TrainingOutcome {
    /// What was trained, and how.
    let run: PreparedRun
    let history: History
    let test: Logs
    let classification: ClassificationReport?
    let regression: RegressionReport?
}

/// One training run as the CLI performs it: prepare → fit → report.
struct TrainingRun {
    let options: TrainingOptions
    /// The train command's arguments as given (after `train`), stored so a run can be resumed.
    var arguments: [String] = []
    /// The checkpoint to continue, and its path.
    var resume: (checkpoint: TrainingCheckpoint, path: String)?
    /// Where everything but errors goes (tests capture it).
    var output: (String) -> Void = { print($0) }

    private func log(_ text: String) { if !options.quiet { output(text) } }

    @discardableResult
    func execute() throws -> TrainingOutcome {
        let start = Date()
        let run = try prepare()
        log(
            "Loaded \(run.data.description) from \(options.data): \(run.train.count) training, \(run.validation?.count ?? 0) validation and \(run.test.count) test samples of shape \(run.train.inputShape) in \(String(format: "%.2f", Date().timeIntervalSince(start)))s"
        )
        log(run.model.summary())
        for note in run.notes { log(note) }
        if let scaling = run.targetScaling {
            log(
                "Regression targets standardized on the training split (mean \(scaling.mean.map { String(format: "%.4g", $0) }.joined(separator: ", ")), std \(scaling.deviation.map { String(format: "%.4g", $0) }.joined(separator: ", "))): losses while training are in standard units, the test report in the targets' units"
            )
        }
        log(
            "Training with \(options.optimizer.rawValue) (lr \(run.optimizer.learningRate)\(options.lrSchedule == .constant ? "" : ", \(options.lrSchedule.rawValue) schedule")), \(options.loss == .auto ? (run.data.task == .regression ? "mse" : "cross-entropy") : options.loss.rawValue) loss, batch \(options.batchSize)\(run.loader.augmentation.map { ", augmentation \($0)" } ?? ""), seed \(options.seed) on \(Backends.current.name) with \(Backends.threadCount) threads"
        )
        if let resume {
            let progress = resume.checkpoint.progress
            log(
                "Resuming from \(resume.path): epoch \(progress.epoch)\(progress.epochComplete ? " done" : ", step \(progress.stepsDone)") (\(progress.globalStep) steps in all)"
            )
        }
        let fitStart = Date()
        let history = try run.model.fit(
            run.loader, validation: run.validation.map { DataLoader($0, batchSize: Self.evaluationBatch) }, epochs: options.epochs,
            callbacks: run.callbacks, verbose: !options.quiet, resumingFrom: resume?.checkpoint, checkpointSource: resume?.path ?? "")
        let seconds = Date().timeIntervalSince(fitStart)
        if let failure = run.checkpoints.failure {
            throw RunFailure(description: "could not write a checkpoint: \(failure)", exitCode: 1)
        }
        if let signal = Interruption.signal {
            let saved =
                run.checkpoints.lastPath.map {
                    "saved a checkpoint to \($0); continue with: backprop train --resume \(run.resumeLocation)"
                } ?? "no checkpoint could be written"
            throw RunFailure(
                description: "training was interrupted by \(Interruption.name(of: signal)); \(saved)", exitCode: 128 + signal)
        }
        if let report = run.terminateOnNaN.report {
            throw RunFailure(
                description:
                    "training diverged: \(report). Try a lower --lr (it was \(options.lr ?? options.optimizer.defaultLearningRate)) or --clip-norm",
                exitCode: 1)
        }
        log(Self.summary(history, seconds: seconds, samples: run.train.count, monitored: options.monitoredValue))
        let outcome = try report(run, history: history)
        try run.model.save(to: run.modelPath, metadata: modelMetadata(run))
        log("Saved the model to \(run.modelPath)")
        if let logdir = options.logdir {
            log("Logs: tensorboard --logdir \(logdir) · report: \(logdir)/report.html · history: \(logdir)/history.csv")
        }
        return outcome
    }

    /// The end-of-run line: epochs, the best epoch by `monitored`, time per epoch, throughput.
    static func summary(_ history: History, seconds: Double, samples: Int, monitored: String) -> String {
        let epochs = history.epochs
        var text = String(
            format: "Trained %d epochs in %.1fs (%.1fs per epoch, %.0f samples/s)", epochs.count, seconds,
            seconds / Double(max(epochs.count, 1)), Double(samples) * Double(epochs.count) / max(seconds, 1e-9))
        let lowerIsBetter = !monitored.contains("acc")
        if let best = epochs.filter({ $0.value(monitored)?.isFinite == true }).min(by: {
            lowerIsBetter ? $0.value(monitored)! < $1.value(monitored)! : $0.value(monitored)! > $1.value(monitored)!
        }) {
            text += String(format: "; best epoch %d: %@ %.4f", best.epoch, monitored, best.value(monitored)!)
            let accuracy = monitored.hasPrefix("val_") ? "val_accuracy" : "accuracy"
            if let value = best.value(accuracy) { text += String(format: ", %@ %.4f", accuracy, value) }
        }
        return text
    }

    /// What a model file keeps beside the architecture: the task, the class names, the target
    /// scaling of a regression, and the options of the run.
    private func modelMetadata(_ run: PreparedRun) -> [String: String] {
        modelMetadata(task: run.data.task, classNames: run.classNames, scaling: run.targetScaling, arguments: run.arguments)
    }

    private func modelMetadata(
        task: Task, classNames: [String], scaling: (mean: [Float], deviation: [Float])?, arguments: [String]
    ) -> [String: String] {
        func json(_ value: Any) -> String {
            String(decoding: (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        }
        var metadata = [
            "backprop.task": task.rawValue, "backprop.class_names": json(task == .classification ? classNames : []),
            Self.argumentsKey: json(arguments),
        ]
        if let scaling {
            metadata["backprop.target_mean"] = json(scaling.mean.map(Double.init))
            metadata["backprop.target_std"] = json(scaling.deviation.map(Double.init))
        }
        return metadata
    }

    /// Validation and test batches.
    static let evaluationBatch = 256
    /// The metadata key of the train arguments that repeat the run.
    static let argumentsKey = "backprop.training"

    // MARK: Prepare

    func prepare() throws -> PreparedRun {
        if let threads = options.threads, !Backends.setThreadCount(threads) {
            throw ValidationError("--threads: no OpenMP runtime is loaded, so the thread count cannot be set")
        }
        let (name, runFolder) = try makeRunFolder()
        let arguments = self.arguments + (options.name == nil ? ["--name", name] : [])
        // Refuse before training, not after it: a model that cannot be written is lost work.
        if let path = options.save { try checkWritable(path, option: "--save") }
        let request = DataRequest(
            path: options.data, format: options.format, labelColumn: options.labelColumn, labelsPath: options.labels,
            testSplit: options.testSplit, seed: options.seed, imageSize: try options.imageSize.map(parseImageSize), task: options.task)
        var data = try loadData(request)
        if options.testSplitOption != nil && data.format.hasOwnTestSplit {
            throw ValidationError(
                "--test-split applies to data without a test split; \(options.data) has its own (\(data.format.rawValue))")
        }
        if let only = options.onlyClasses {
            guard data.task == .classification else {
                throw ValidationError("--only-classes applies to classification, but the targets are numbers")
            }
            let names = data.classNames ?? (0..<data.outputs).map(String.init)
            let picked = try selectedClasses(only, names: names)
            data = LoadedData(
                train: try keepingClasses(data.train, picked), test: try keepingClasses(data.test, picked), outputs: picked.count,
                task: .classification, classNames: picked.map { names[$0] },
                description: data.description + "; only classes \(picked.map { names[$0] }.joined(separator: ", "))", format: data.format,
                trainSource: data.trainSource, testSource: data.testSource)
        }
        try checkSplits(data)
        let task = data.task
        let loss = try makeLoss(task: task, data: data)
        let outputs = task == .classification && options.loss == .bce ? 1 : data.outputs
        var classNames = data.classNames ?? (0..<data.outputs).map(String.init)
        if let names = options.classNames {
            guard task == .classification else {
                throw ValidationError("--class-names applies to classification, but the targets are numbers")
            }
            let parsed = parseClassNames(names)
            guard parsed.count == data.outputs else {
                throw ValidationError("--class-names lists \(parsed.count) names, but the data has \(data.outputs) classes")
            }
            classNames = parsed
        }
        if task == .regression && options.topK != nil {
            throw ValidationError("--top-k applies to classification, but the targets are numbers")
        }
        if let k = options.topK, k > data.outputs {
            throw ValidationError("--top-k must be at most the number of classes (\(data.outputs)), got \(k)")
        }
        let topK = options.topK ?? (task == .classification && data.outputs > 5 ? 5 : nil)

        // Regression targets are standardized with the training split's statistics.
        var scaling: (mean: [Float], deviation: [Float])?
        if task == .regression {
            let (train, test, statistics) = try standardizeTargets(train: data.train, test: data.test)
            scaling = statistics
            data = LoadedData(
                train: train, test: test, outputs: data.outputs, task: task, classNames: nil, description: data.description,
                format: data.format, trainSource: data.trainSource, testSource: data.testSource)
        }
        var train: any Dataset = data.train
        if let count = options.trainSamples {
            train = try subsample(train, count: count, classification: task == .classification, seed: options.seed)
        }
        var validation: (any Dataset)?
        if options.validationSplit > 0 {
            let (kept, held) = try splitNamingTheOption(
                train, fraction: options.validationSplit, stratified: options.stratify, seed: options.seed &+ 1,
                option: options.stratify ? "--validation-split with --stratify" : "--validation-split")
            (train, validation) = (kept, held)
        }
        let augmentation = try options.augment.map(parseAugmentation)
        if let augmentation, train.inputShape.rank != 3 {
            throw ValidationError(
                "--augment \(augmentation) needs images [height, width, channels], but the samples have shape \(train.inputShape)")
        }

        if options.from != nil { seedGlobalRandom(options.seed) }  // the new head's initial weights
        let transfer = try options.from.map { try makeTransfer(from: $0, inputShape: train.inputShape, outputs: outputs) }
        let architecture = try transfer?.model.architecture ?? options.network.architecture(inputShape: train.inputShape, outputs: outputs)
        try MemoryCheck.check(
            try architecture.plan(), batchSize: max(options.largestBatch, Self.evaluationBatch),
            stateBuffers: options.optimizer.stateBuffers(amsGrad: options.amsgrad),
            hint: "use fewer or narrower layers or a smaller --batch-size")
        seedGlobalRandom(options.seed)
        var notes: [String] = []
        let model: Model
        var frozen: [Parameter] = []
        if let from = options.from, let (transferred, head) = transfer {
            model = transferred
            let last = try freezeIndex(head: head, architecture: architecture)
            if last >= 0 { frozen = model.freeze(upTo: last) }
            notes.append(
                "Transfer from \(from): \(last >= 0 ? "layers 0–\(last) frozen (\(frozen.reduce(0) { $0 + $1.elementCount }) parameters)" : "nothing frozen"), a new head \(architecture.chain[head].name) at layer \(head)\(options.unfreezeAfter.map { "; unfrozen after epoch \($0) at \(options.fineTuneLRScale ?? 0.1) × the learning rate" } ?? "")"
            )
        } else {
            model = try makeModel(architecture, training: train)
        }
        let optimizer = makeOptimizer()
        model.compile(optimizer: optimizer, loss: loss, metrics: task == .classification ? [.accuracy] : [.meanAbsoluteError])
        let terminateOnNaN = TerminateOnNaN()
        let checkpointFolder = options.checkpointDir ?? runFolder + "/checkpoints"
        if resume == nil, let existing = ModelCheckpoint.checkpoints(in: checkpointFolder).last {
            throw ValidationError(
                "\(checkpointFolder) already holds checkpoints of a run (\(existing.name)); continue it with --resume \(checkpointFolder), or choose another \(options.checkpointDir == nil ? "--name" : "--checkpoint-dir")"
            )
        }
        let checkpoints = try ModelCheckpoint(
            directory: checkpointFolder, everySteps: options.checkpointEvery, keepLast: options.keepCheckpoints,
            best: options.validationSplit > 0 ? "val_loss" : nil,
            metadata: modelMetadata(task: task, classNames: classNames, scaling: scaling, arguments: arguments))
        var unfreeze: [any Callback] = []
        if let after = options.unfreezeAfter, !frozen.isEmpty {
            unfreeze.append(Unfreeze(after: after, parameters: frozen, learningRateScale: options.fineTuneLRScale ?? 0.1))
        }
        // Watching (--logdir): the monitor samples first, the writers come after every callback that
        // changes the run (so they log what happened at the step), the checkpoints last.
        var watchers: [any Callback] = []
        var monitor: TrainingMonitor?
        var report: RunReport?
        if let logdir = options.logdir {
            do { try FileManager.default.createDirectory(atPath: logdir, withIntermediateDirectories: true) } catch {
                throw BackpropError.unwritable(path: logdir, reason: "--logdir: \(error.localizedDescription)")
            }
            guard access(logdir, W_OK) == 0 else {
                throw BackpropError.unwritable(path: logdir, reason: "--logdir: \(String(cString: strerror(errno)))")
            }
            let sampling = TrainingMonitor(every: options.monitorEvery)
            monitor = sampling
            report = RunReport(folder: logdir, title: "backprop train · \(name)", monitor: sampling, classNames: classNames)
            watchers = [
                TensorBoardLogger(logdir: logdir, monitor: sampling, every: min(10, options.monitorEvery), classNames: classNames),
                report!,
            ]
        }
        let callbacks =
            try [terminateOnNaN] + (monitor.map { [$0] } ?? [])
            + makeCallbacks(baseLearningRate: optimizer.learningRate, trainCount: train.count) + unfreeze + watchers + [checkpoints]
        let prefetch =
            switch options.prefetch {
            case .auto: augmentation != nil || data.format == .images  // only PNG folders are read from disk
            case .on: true
            case .off: false
            }
        let loader = DataLoader(
            train, batchSize: options.batchSize, shuffle: true, seed: options.seed, augmentation: augmentation, prefetch: prefetch)
        return PreparedRun(
            data: data, train: train, validation: validation, test: data.test, architecture: architecture, model: model,
            optimizer: optimizer,
            loss: loss, callbacks: callbacks, terminateOnNaN: terminateOnNaN, loader: loader, targetScaling: scaling,
            classNames: classNames, topK: topK, checkpoints: checkpoints, modelPath: options.save ?? runFolder + "/model.safetensors",
            arguments: arguments, resumeLocation: options.checkpointDir ?? runFolder, notes: notes, report: report)
    }

    /// The base model with a new head for `outputs` classes (``Model/transferred(toOutputs:)``).
    private func makeTransfer(from path: String, inputShape: Shape, outputs: Int) throws -> (model: Model, head: Int) {
        let base = try SavedModel(path: path)
        guard base.model.inputShape == inputShape else {
            throw ValidationError("--from \(path) takes samples of shape \(base.model.inputShape), but the data's are \(inputShape)")
        }
        if let classes = options.classes, classes != outputs {
            throw ValidationError("--classes \(classes), but the data has \(outputs) classes")
        }
        do {
            return try base.model.transferred(toOutputs: outputs)
        } catch let error as BackpropError {
            throw ValidationError("--from \(path): \(error)")
        }
    }

    /// The last layer `--freeze-until` freezes (-1: none).
    private func freezeIndex(head: Int, architecture: Architecture) throws -> Int {
        guard let text = options.freezeUntil else {
            // A convolutional base (through its flatten) when there is one, as the course's slide
            // reuses it; otherwise everything but the head.
            let types = architecture.chain.prefix(head).map(\.typeName)
            if let conv = types.lastIndex(of: "conv2d"), let flatten = types[conv...].firstIndex(of: "flatten") { return flatten }
            return head - 1
        }
        if text == "none" { return -1 }
        let types = architecture.chain.map(\.typeName)
        let index: Int? =
            if let number = Int(text) { number } else if text.hasPrefix("layers."), let number = Int(text.dropFirst(7)) { number } else {
                types.prefix(head).lastIndex(of: text)
            }
        guard let index, index >= 0, index < head else {
            throw ValidationError(
                "--freeze-until \(text): expected a layer before the head (0…\(head - 1), layers.N, none, or one of the types \(Set(types.prefix(head)).sorted().joined(separator: ", ")))"
            )
        }
        return index
    }

    /// The run's folder, runs/NAME, created now; a default name (the model and the time) gets a
    /// suffix when another run took it. Nothing is created when --save and --checkpoint-dir say
    /// where everything goes.
    private func makeRunFolder() throws -> (name: String, folder: String) {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let model = options.network.modelFile == nil ? options.network.model.rawValue : "model"
        let base = options.name ?? "\(model)-\(formatter.string(from: Date()))"
        guard options.save == nil || options.checkpointDir == nil else { return (base, "runs/" + base) }
        if mkdir("runs", 0o755) != 0 && errno != EEXIST {
            throw BackpropError.unwritable(path: "runs", reason: String(cString: strerror(errno)))
        }
        for attempt in 1...1000 {
            let name = attempt == 1 ? base : "\(base)-\(attempt)"
            let folder = "runs/" + name
            if mkdir(folder, 0o755) == 0 { return (name, folder) }
            guard errno == EEXIST else { throw BackpropError.unwritable(path: folder, reason: String(cString: strerror(errno))) }
            // A named run (or a resumed one) uses its folder again.
            if options.name != nil { return (name, folder) }
        }
        throw BackpropError.unwritable(path: "runs/" + base, reason: "1000 runs of that name exist")
    }

    /// Empty splits, samples without values and test samples of another shape stop the run before
    /// training, naming where they came from.
    private func checkSplits(_ data: LoadedData) throws {
        guard data.train.count > 0 else { throw ValidationError("no training samples in \(data.trainSource)") }
        guard data.test.count > 0 else { throw ValidationError("no test samples in \(data.testSource)") }
        guard data.train.inputShape.elementCount > 0 else {
            throw ValidationError("the samples of \(data.trainSource) have shape \(data.train.inputShape): no values to learn from")
        }
        guard data.test.inputShape == data.train.inputShape else {
            throw ValidationError(
                "the test samples (\(data.testSource)) have shape \(data.test.inputShape) but the training samples (\(data.trainSource)) \(data.train.inputShape)"
            )
        }
        guard data.test.targetShape == data.train.targetShape else {
            throw ValidationError(
                "the test targets (\(data.testSource)) have shape \(data.test.targetShape) but the training targets \(data.train.targetShape)"
            )
        }
        if data.task == .classification {
            guard data.outputs >= 2 else {
                throw ValidationError("classification needs at least 2 classes, but \(data.trainSource) has \(data.outputs)")
            }
            guard data.outputs <= Limits.classes else {
                throw ValidationError("\(data.outputs) classes in \(data.trainSource); at most \(Limits.classes)")
            }
        }
    }

    private func makeLoss(task: Task, data: LoadedData) throws -> any Loss {
        switch (options.loss, task) {
        case (.auto, .classification), (.crossEntropy, .classification): return SoftmaxCrossEntropy()
        case (.auto, _), (.mse, .regression): return MeanSquaredError()
        case (.mae, .regression): return MeanAbsoluteError()
        case (.huber, .regression): return HuberLoss(delta: options.huberDelta ?? 1)
        case (.bce, .classification):
            guard data.outputs == 2 else {
                throw ValidationError(
                    "--loss bce needs 2 classes (labels 0 and 1), but \(data.trainSource) has \(data.outputs); use cross-entropy")
            }
            return BinaryCrossEntropy()
        case (.bce, _):
            throw ValidationError("--loss bce on numeric targets needs --task classification with labels 0 and 1")
        case (.crossEntropy, _):
            throw ValidationError(
                "--loss cross-entropy needs class labels, but the targets are numbers (--task regression); use mse, mae or huber")
        case (.mse, _), (.mae, _), (.huber, _):
            throw ValidationError(
                "--loss \(options.loss.rawValue) is for regression, but the targets are classes; use cross-entropy or --task regression")
        }
    }

    /// The training targets' per-column mean and standard deviation, and both splits standardized.
    private func standardizeTargets(train: any Dataset, test: any Dataset) throws -> (any Dataset, any Dataset, ([Float], [Float])) {
        let training = try train.materialized()
        let testing = try test.materialized()
        let rows = training.targets.shape[0]
        let columns = training.targets.elementCount / max(rows, 1)
        let values = training.targets.scalars
        var mean = [Float](repeating: 0, count: columns)
        var deviation = [Float](repeating: 1, count: columns)
        for column in 0..<columns {
            let column64 = stride(from: column, to: values.count, by: columns).map { Double(values[$0]) }
            let m = column64.reduce(0, +) / Double(max(rows, 1))
            let variance = column64.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(rows, 1))
            mean[column] = Float(m)
            deviation[column] = variance > 0 ? Float(variance.squareRoot()) : 1
        }
        let shape = Shape([columns])
        let scale = { (targets: Tensor) in (targets - Tensor(mean, shape: shape)) / Tensor(deviation, shape: shape) }
        return (
            TensorDataset(inputs: training.inputs, targets: scale(training.targets)),
            TensorDataset(inputs: testing.inputs, targets: scale(testing.targets)),
            (mean, deviation)
        )
    }

    /// The architecture, behind a Normalization layer fitted on the training split when asked for
    /// (part of the architecture, so a saved model applies it too).
    private func makeModel(_ architecture: Architecture, training: any Dataset) throws -> Model {
        let inputShape = architecture.inputShape
        let kind: Normalization.Kind? =
            switch options.normalize {
            case .standard: .standardization
            case .minmax: .minMax
            case .auto: inputShape.rank == 1 && options.network.modelFile == nil ? .standardization : nil
            case .none: nil
            }
        guard let kind else { return try architecture.makeModel() }
        var normalized = architecture
        normalized.layers.insert(.normalization(kind: kind, perChannel: inputShape.rank == 3), at: 0)
        let model = try normalized.makeModel()
        guard let normalization = (model.network as? Sequential)?.layers.first as? Normalization else {
            preconditionFailure("the first layer was just made a Normalization")
        }
        normalization.adapt(try training.materialized().inputs)
        return model
    }

    private func makeOptimizer() -> Optimizer {
        let lr = options.lr ?? options.optimizer.defaultLearningRate
        let decay = options.weightDecay ?? (options.optimizer == .adamw ? 0.01 : 0)
        let optimizer: Optimizer =
            switch options.optimizer {
            case .sgd: SGD(learningRate: lr, weightDecay: decay)
            case .momentum: SGD(learningRate: lr, momentum: options.momentum ?? 0.9, weightDecay: decay)
            case .nesterov: SGD(learningRate: lr, momentum: options.momentum ?? 0.9, nesterov: true, weightDecay: decay)
            case .adagrad: AdaGrad(learningRate: lr, epsilon: options.epsilon ?? 1e-10, weightDecay: decay)
            case .rmsprop:
                RMSProp(
                    learningRate: lr, alpha: options.rho ?? 0.99, epsilon: options.epsilon ?? 1e-8, momentum: options.momentum ?? 0,
                    centered: options.centered, weightDecay: decay)
            case .adam:
                Adam(
                    learningRate: lr, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, epsilon: options.epsilon ?? 1e-8,
                    amsGrad: options.amsgrad, weightDecay: decay)
            case .adamw:
                AdamW(
                    learningRate: lr, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, epsilon: options.epsilon ?? 1e-8,
                    amsGrad: options.amsgrad, weightDecay: decay)
            }
        optimizer.clipNorm = options.clipNorm
        optimizer.clipValue = options.clipValue
        return optimizer
    }

    /// Schedules are laid out over training samples when a batch schedule changes the number of
    /// steps (so they still reach their end), over steps otherwise.
    private func makeCallbacks(baseLearningRate lr: Float, trainCount: Int) throws -> [any Callback] {
        var callbacks: [any Callback] = []
        let bySamples = options.batchSchedule != .none
        let perEpoch = bySamples ? trainCount : (trainCount + options.batchSize - 1) / options.batchSize
        let total = perEpoch * options.epochs
        let warmup = options.warmup * perEpoch
        let factor = options.decayFactor ?? 0.5
        let milestones = try options.milestoneEpochs()
        let schedule: LearningRateSchedule? =
            switch options.lrSchedule {
            case .constant, .plateau: options.warmup > 0 ? .constant(lr) : nil
            case .linear: .linear(initial: lr, final: lr / 100, steps: total - warmup)
            case .exponential: .exponential(initial: lr, rate: 0.01, steps: total - warmup)
            case .step:
                .piecewise(
                    boundaries: milestones.map { ($0 - 1) * perEpoch - warmup },
                    values: (0...milestones.count).map { lr * pow(factor, Float($0)) })
            case .cosine: .cosine(initial: lr, period: total - warmup)
            case .invsqrt: .inverseSquareRoot(initial: lr, steps: perEpoch)
            }
        if let schedule {
            // Under plateau the warm-up hands over and leaves the rate to ReduceLROnPlateau.
            callbacks.append(
                LearningRateScheduler(
                    schedule.withWarmup(steps: warmup), unit: bySamples ? .sample : .step,
                    activeSteps: options.lrSchedule == .plateau ? warmup : nil))
        }
        let patience = options.patience ?? 2
        if options.lrSchedule == .plateau {
            callbacks.append(ReduceLROnPlateau(monitor: options.monitoredValue, factor: factor, patience: patience))
        }
        switch options.batchSchedule {
        case .none: break
        case .step: callbacks.append(BatchSizeScheduler(.milestones(try options.batchSizes())))
        case .plateau:
            callbacks.append(
                BatchSizeScheduler(
                    .onPlateau(monitor: options.monitoredValue, factor: 2, patience: patience, maximum: BatchScheduleLimit.plateauMaximum)))
        }
        if let patience = options.earlyStop {
            callbacks.append(EarlyStopping(monitor: options.monitoredValue, patience: patience, restoreBestWeights: true))
        }
        if let path = options.csvLog { callbacks.append(try CSVLogger(path: path)) }
        return callbacks
    }

    // MARK: Report

    private func report(_ run: PreparedRun, history: History) throws -> TrainingOutcome {
        let testLoader = DataLoader(run.test, batchSize: Self.evaluationBatch)
        let test = try run.model.evaluate(testLoader)
        let (inputs, targets) = try run.test.materialized()
        let predictions = run.model.predict(inputs, batchSize: Self.evaluationBatch)
        if let scaling = run.targetScaling {
            let shape = Shape([scaling.mean.count])
            let unscale = { (t: Tensor) in t * Tensor(scaling.deviation, shape: shape) + Tensor(scaling.mean, shape: shape) }
            let regression = RegressionReport(predictions: unscale(predictions), targets: unscale(targets))
            output(
                String(
                    format: "Test loss: %.4f (standardized) - MAE: %.4g - RMSE: %.4g - R²: %.4f", test["loss"] ?? .nan,
                    regression.meanAbsoluteError, regression.rootMeanSquaredError, regression.rSquared))
            if regression.rSquaredPerOutput.count > 1 {
                log("R² per output: " + regression.rSquaredPerOutput.map { String(format: "%.4f", $0) }.joined(separator: ", "))
            }
            return TrainingOutcome(run: run, history: history, test: test, classification: nil, regression: regression)
        }
        let classification = ClassificationReport(
            scores: predictions, labels: targets, classNames: run.classNames, topK: run.topK.map { [$0] } ?? [])
        if let report = run.report, let outcome = ClassificationOutcome(inputs: inputs, outputs: predictions, targets: targets) {
            report.attach(outcome, source: "test set, after training", model: run.model)
        }
        var line = String(format: "Test loss: %.4f - test accuracy: %.4f", test["loss"] ?? .nan, test["accuracy"] ?? .nan)
        if let k = run.topK, let value = classification.topK[k] { line += String(format: " - top-%d accuracy: %.4f", k, value) }
        output(line)
        log(classification.formatted)
        return TrainingOutcome(run: run, history: history, test: test, classification: classification, regression: nil)
    }
}
