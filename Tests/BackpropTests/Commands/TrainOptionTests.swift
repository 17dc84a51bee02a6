import Backprop
import Foundation
import Synchronization
import Testing

@testable import BackpropCommands

/// Every `train` option is exercised here (or in the tests named in `covered`) by a run that
/// checks its effect, on tiny data.
@Suite(.serialized)
struct TrainOptionTests {
    /// Which test checks each option's effect; `everyOptionHasAnEffectTest` keeps it complete.
    static let covered: [String: String] = [
        "--model": "presetsAndTheirOptions", "--hidden": "presetsAndTheirOptions", "--width": "presetsAndTheirOptions",
        "--dropout": "presetsAndTheirOptions", "--batch-norm": "presetsAndTheirOptions", "--l1": "penaltiesAreReported",
        "--l2": "penaltiesAreReported", "--epochs": "epochsAndBatchSize", "--batch-size": "epochsAndBatchSize",
        "--task": "regressionFromCSV", "--loss": "lossesFollowTheOption", "--huber-delta": "lossesFollowTheOption",
        "--optimizer": "optimizersAndTheirHyperParameters", "--lr": "schedulesShapeTheLearningRate",
        "--momentum": "optimizersAndTheirHyperParameters", "--beta1": "optimizersAndTheirHyperParameters",
        "--beta2": "optimizersAndTheirHyperParameters", "--epsilon": "optimizersAndTheirHyperParameters",
        "--amsgrad": "optimizersAndTheirHyperParameters", "--rho": "optimizersAndTheirHyperParameters",
        "--centered": "optimizersAndTheirHyperParameters", "--weight-decay": "optimizersAndTheirHyperParameters",
        "--clip-norm": "optimizersAndTheirHyperParameters", "--clip-value": "optimizersAndTheirHyperParameters",
        "--lr-schedule": "schedulesShapeTheLearningRate", "--warmup": "warmupRisesThenHandsOver",
        "--milestones": "schedulesShapeTheLearningRate", "--decay-factor": "schedulesShapeTheLearningRate",
        "--patience": "plateauReductionsSurviveAWarmup", "--batch-schedule": "batchScheduleAndItsLearningRateSchedule",
        "--early-stop": "earlyStoppingStopsTheRun", "--data": "formatsAndTheirOptions", "--format": "formatsAndTheirOptions",
        "--labels": "formatsAndTheirOptions", "--label-column": "formatsAndTheirOptions", "--image-size": "formatsAndTheirOptions",
        "--test-split": "splitsHaveTheAskedSizes", "--validation-split": "splitsHaveTheAskedSizes", "--stratify": "splitsHaveTheAskedSizes",
        "--normalize": "normalizationIsPartOfTheModel", "--prefetch": "loaderOptions", "--augment": "loaderOptions",
        "--class-names": "classificationReportNamesTheClasses", "--top-k": "classificationReportNamesTheClasses",
        "--csv-log": "csvLogWritesOneRowPerEpoch", "--threads": "threadsAreSet", "--seed": "seedFixesTheRun",
        "--quiet": "quietPrintsOnlyTheTestFigures (TrainCommandProcessTests)",
        "--model-file": "trainSavesWhatItTrained (ModelFileTests)", "--save": "trainSavesWhatItTrained (ModelFileTests)",
        "--name": "runFolderHoldsTheModelAndCheckpoints (ResumeCommandTests)",
        "--checkpoint-dir": "checkpointOptionsDecideWhatIsKept (ResumeCommandTests)",
        "--checkpoint-every": "checkpointOptionsDecideWhatIsKept (ResumeCommandTests)",
        "--keep-checkpoints": "checkpointOptionsDecideWhatIsKept (ResumeCommandTests)",
        "--resume": "interruptedRunsResumeToTheSameWeights (ResumeCommandTests)",
        "--only-classes": "subsetsOfTheData", "--train-samples": "subsetsOfTheData", "--from": "transferLearning",
        "--freeze-until": "transferLearning", "--unfreeze-after": "transferLearning", "--fine-tune-lr-scale": "transferLearning",
        "--classes": "transferLearning", "--logdir": "tensorBoardReadsScalarsHistogramsImagesAndText (MonitoringCommandTests)",
        "--monitor-every": "tensorBoardReadsScalarsHistogramsImagesAndText (MonitoringCommandTests)",
        "--depth": "presetsAndTheirOptions",
    ]

    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var storage: [String] = []
        func append(_ line: String) { lock.withLock { storage.append(line) } }
        var all: [String] { lock.withLock { storage } }
    }

    /// Trains on the tiny classification CSV unless `--data` is given; `--quiet` keeps the
    /// progress bar off the test output.
    static func train(_ arguments: [String]) throws -> (outcome: TrainingOutcome, output: [String]) {
        var full = arguments
        func fill(_ option: String, _ value: String) { if !full.contains(option) { full += [option, value] } }
        fill("--data", TinyData.classificationCSV)
        fill("--epochs", "3")
        fill("--batch-size", "16")
        if !full.contains("--model") && !full.contains("--model-file") && !full.contains("--from") { fill("--hidden", "8") }
        if !full.contains("--quiet") { full.append("--quiet") }
        // The model and checkpoints go to the scratch folder, not runs/ under the package.
        let scratch = TinyData.root + "/in-process-\(UUID().uuidString)"
        fill("--save", scratch + ".safetensors")
        fill("--checkpoint-dir", scratch)
        let options = try TrainingOptions.parse(full)
        let lines = Lines()
        let outcome = try TrainingRun(options: options, output: { lines.append($0) }).execute()
        return (outcome, lines.all)
    }

    static func layers(_ outcome: TrainingOutcome) -> [any Layer] {
        (outcome.run.model.network as? Sequential)?.layers ?? [outcome.run.model.network]
    }

    @Test func everyOptionHasAnEffectTest() {
        let options = CommandFuzzTests.commands.first { $0.name == "train" }?.options.map(\.name) ?? []
        #expect(options.count > 40)
        let missing = options.filter { Self.covered[$0] == nil }
        #expect(missing.isEmpty, "options without an effect test: \(missing)")
        let help = BackpropCommand.helpMessage(for: TrainCommand.self)
        for option in options { #expect(help.contains(option), "help lacks \(option)") }
    }

    @Test func presetsAndTheirOptions() throws {
        let mlp = try Self.train(["--hidden", "7,5", "--dropout", "0.3", "--batch-norm"]).outcome
        let denses = Self.layers(mlp).compactMap { $0 as? Dense }
        #expect(denses.map(\.outputSize) == [7, 5, 3])
        #expect(Self.layers(mlp).filter { $0 is Dropout }.count == 2)
        #expect(Self.layers(mlp).filter { $0 is BatchNorm }.count == 2)
        let cnn = try Self.train(["--data", TinyData.imageFolder, "--model", "cnn", "--width", "0.25"]).outcome
        #expect(Self.layers(cnn).compactMap { $0 as? Conv2D }.map(\.outputChannels) == [8, 16])
        let lenet = try Self.train([
            "--data", TinyData.imageFolder, "--image-size", "16,16", "--model", "lenet5", "--dropout", "0.2", "--l2", "1e-3",
        ]).outcome
        #expect(Self.layers(lenet).filter { $0 is Dropout }.count == 2, "lenet5 honours --dropout")
        #expect(lenet.history.epochs.last?.training["penalty"] ?? 0 > 0, "lenet5 honours --l2")
        #expect(throws: Error.self) { try Self.train(["--hidden", "8", "--width", "2"]) }
        let resnet = try Self.train([
            "--data", TinyData.imageFolder, "--model", "resnet", "--depth", "8", "--width", "0.25", "--epochs", "1",
        ])
        .outcome
        #expect(Self.layers(resnet).filter { $0 is Residual }.count == 3)
        let plain = try Self.train([
            "--data", TinyData.imageFolder, "--model", "plain", "--depth", "14", "--width", "0.25", "--epochs", "1",
        ])
        .outcome
        #expect(Self.layers(plain).filter { $0 is Conv2D }.count == 13 && !Self.layers(plain).contains { $0 is Residual })
        for bad in [["--model", "resnet", "--depth", "9"], ["--model", "cnn", "--depth", "20"], ["--model", "resnet", "--depth", "2"]] {
            #expect(throws: Error.self) { try Self.train(["--data", TinyData.imageFolder] + bad) }
        }
    }

    @Test func penaltiesAreReported() throws {
        let plain = try Self.train([]).outcome.history.epochs.last!.training
        #expect(plain["penalty"] == nil)
        for option in ["--l1", "--l2"] {
            let penalty = try Self.train([option, "1e-2"]).outcome.history.epochs.last!.training["penalty"] ?? 0
            #expect(penalty > 0, "\(option)")
        }
    }

    @Test func epochsAndBatchSize() throws {
        let outcome = try Self.train(["--epochs", "2", "--batch-size", "8"]).outcome
        #expect(outcome.history.epochs.count == 2)
        #expect(outcome.history.epochs.allSatisfy { $0.batchSize == 8 })
    }

    @Test func regressionFromCSV() throws {
        let (outcome, output) = try Self.train(["--data", TinyData.regressionCSV, "--epochs", "30", "--lr", "0.01"])
        let report = try #require(outcome.regression)
        #expect(report.rSquared > 0.9, "R² \(report.rSquared)")
        #expect(output.contains { $0.contains("R²") })
        #expect(outcome.run.loss is MeanSquaredError)
        // The same integer-valued targets are classes unless --task regression says otherwise.
        let forced = try Self.train(["--data", TinyData.regressionCSV, "--task", "regression", "--epochs", "1"]).outcome
        #expect(forced.regression != nil)
        #expect(throws: Error.self) { try Self.train(["--task", "regression"]) }  // text labels
    }

    /// Forecasting the next value of a noisy sine from the 16 before it: the recurrent presets read
    /// a table row as a sequence and beat the persistence forecast (tomorrow = today) by far.
    @Test(arguments: ["gru", "lstm"])
    func recurrentPresetsForecastASeries(_ model: String) throws {
        let (outcome, _) = try Self.train([
            "--data", TinyData.sineWindowsCSV, "--label-column", "next", "--task", "regression", "--model", model, "--width", "0.25",
            "--epochs", "25", "--lr", "0.01", "--batch-size", "32",
        ])
        let layers = Self.layers(outcome)
        #expect(layers.contains { $0 is any RecurrentLayer })
        let report = try #require(outcome.regression)
        // Persistence: R² = 1 − Σ(x₁₅ − next)² / Σ(next − mean)², about 0.9 for this series.
        let rows = try String(contentsOfFile: TinyData.sineWindowsCSV, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").compactMap { Double($0) } }
        let targets: [Double] = rows.map { $0[16] }
        let mean = targets.reduce(0, +) / Double(rows.count)
        let persistenceError: Double = rows.map { ($0[15] - $0[16]) * ($0[15] - $0[16]) }.reduce(0, +)
        let variance: Double = targets.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        let persistence = 1 - persistenceError / variance
        #expect(
            report.rSquared > 0.97 && report.rSquared > persistence + 0.05, "\(model): R² \(report.rSquared), persistence \(persistence)")
    }

    @Test func lossesFollowTheOption() throws {
        let regression = ["--data", TinyData.regressionCSV, "--epochs", "1"]
        #expect(try Self.train(regression + ["--loss", "mae"]).outcome.run.loss is MeanAbsoluteError)
        let huber = try Self.train(regression + ["--loss", "huber", "--huber-delta", "0.5"]).outcome.run.loss as? HuberLoss
        #expect(huber?.delta == 0.5)
        #expect(try Self.train(["--loss", "cross-entropy"]).outcome.run.loss is SoftmaxCrossEntropy)
        let binary = try Self.train(["--data", TinyData.imageArchive, "--loss", "bce"]).outcome
        #expect(binary.run.loss is BinaryCrossEntropy)
        #expect((Self.layers(binary).last as? Dense)?.outputSize == 1)
        #expect(throws: Error.self) { try Self.train(["--loss", "bce"]) }  // three classes
        #expect(throws: Error.self) { try Self.train(["--loss", "mse"]) }  // classes
        #expect(throws: Error.self) { try Self.train(["--huber-delta", "2"]) }  // without --loss huber
    }

    @Test func optimizersAndTheirHyperParameters() throws {
        let sgd = try Self.train(["--optimizer", "nesterov", "--momentum", "0.8", "--weight-decay", "0.01"]).outcome.run.optimizer
        #expect((sgd as? SGD)?.momentum == 0.8 && (sgd as? SGD)?.nesterov == true && sgd.weightDecay == 0.01)
        let adam =
            try Self.train([
                "--beta1", "0.8", "--beta2", "0.99", "--epsilon", "1e-6", "--amsgrad", "--clip-norm", "1", "--clip-value", "0.5",
            ])
            .outcome.run.optimizer as? Adam
        #expect(adam?.beta1 == 0.8 && adam?.beta2 == 0.99 && adam?.epsilon == 1e-6 && adam?.amsGrad == true)
        #expect(adam?.clipNorm == 1 && adam?.clipValue == 0.5)
        let rms = try Self.train(["--optimizer", "rmsprop", "--rho", "0.9", "--centered"]).outcome.run.optimizer as? RMSProp
        #expect(rms?.alpha == 0.9 && rms?.centered == true)
        #expect(try Self.train(["--optimizer", "adamw"]).outcome.run.optimizer is AdamW)
        #expect(try Self.train(["--optimizer", "adagrad"]).outcome.run.optimizer is AdaGrad)
        #expect(throws: Error.self) { try Self.train(["--optimizer", "sgd", "--beta1", "0.5"]) }
        #expect(throws: Error.self) { try Self.train(["--momentum", "0.5"]) }  // adam has no momentum option
    }

    /// Per-epoch learning rates (the rate when each epoch ended) for each schedule, 5 steps an epoch.
    @Test func schedulesShapeTheLearningRate() throws {
        func rates(_ arguments: [String]) throws -> [Float] {
            try Self.train(["--epochs", "4", "--lr", "0.1"] + arguments).outcome.history.epochs.map(\.learningRate)
        }
        #expect(try rates(["--lr-schedule", "constant"]) == [0.1, 0.1, 0.1, 0.1])
        let step = try rates(["--lr-schedule", "step", "--milestones", "2,4", "--decay-factor", "0.1"])
        #expect(zip(step, [0.1, 0.01, 0.01, 0.001]).allSatisfy { abs($0 - $1) < 1e-7 }, "\(step)")
        let cosine = try rates(["--lr-schedule", "cosine"])
        #expect(cosine == cosine.sorted(by: >) && cosine.last! < 0.001, "\(cosine)")
        let linear = try rates(["--lr-schedule", "linear"])
        // The last step of 20 (t = 19): lr(1 − 19/20) + (lr/100)·19/20.
        #expect(abs(linear.last! - (0.1 * 0.05 + 0.001 * 0.95)) < 1e-6, "linear heads for lr/100: \(linear)")
        let exponential = try rates(["--lr-schedule", "exponential"])
        #expect(exponential == exponential.sorted(by: >) && exponential.last! < 0.0015, "\(exponential)")
        let invsqrt = try rates(["--lr-schedule", "invsqrt"])
        #expect(invsqrt[0] == 0.1 && abs(invsqrt[3] - 0.1 * (5.0 / 19).squareRoot()) < 1e-6, "\(invsqrt)")
    }

    @Test func warmupRisesThenHandsOver() throws {
        let rates = try Self.train(["--epochs", "4", "--lr", "0.1", "--lr-schedule", "constant", "--warmup", "2"]).outcome.history.epochs
            .map(\.learningRate)
        #expect(abs(rates[0] - 0.05) < 1e-7 && rates[1] == 0.1 && rates[3] == 0.1, "\(rates)")
    }

    /// The bug was: under plateau a warm-up reset the rate every step, cancelling every reduction.
    @Test func plateauReductionsSurviveAWarmup() throws {
        // A rate so small that the weights cannot change (lr 1e-30): every epoch
        // after the first counts as a plateau (patience 0 → reduce at once).
        let rates = try Self.train([
            "--epochs", "5", "--lr", "1e-30", "--lr-schedule", "plateau", "--warmup", "1", "--patience", "0", "--decay-factor", "0.5",
        ]).outcome.history.epochs.map(\.learningRate)
        #expect(rates.count == 5)
        #expect(rates[4] < rates[1] * 0.3, "the reductions were cancelled: \(rates)")
    }

    /// The bug was: with a batch schedule the learning-rate schedule was laid out in the first
    /// batch size's steps, so it never reached its end.
    @Test func batchScheduleAndItsLearningRateSchedule() throws {
        let epochs = try Self.train([
            "--epochs", "4", "--lr", "0.1", "--batch-size", "8", "--batch-schedule", "step", "--milestones", "2,3", "--decay-factor", "0.5",
            "--lr-schedule", "linear",
        ]).outcome.history.epochs
        #expect(epochs.map(\.batchSize) == [8, 16, 32, 32])
        // 72 samples an epoch; the last batch starts at 280 of 288 samples: 0.1(1 − 280/288) + 0.001·280/288 ≈ 0.00375.
        // Laid out in batch-8 steps (36) instead, it would stop at step 19 of 36, near 0.048.
        #expect(
            abs(epochs.last!.learningRate - 0.00375) < 1e-5, "the linear schedule should end near lr/100: \(epochs.map(\.learningRate))")
        let plateau = try Self.train([
            "--epochs", "3", "--lr", "1e-30", "--batch-schedule", "plateau", "--patience", "0", "--validation-split", "0.2",
        ]).outcome.history
        // Epoch 1 sets the best val_loss; epoch 2 does not beat it, so epoch 3 runs at twice the batch.
        #expect(plateau.epochs.map(\.batchSize) == [16, 16, 32])
    }

    @Test func earlyStoppingStopsTheRun() throws {
        let history = try Self.train([
            "--epochs", "6", "--lr", "1e-30", "--lr-schedule", "constant", "--early-stop", "1", "--validation-split", "0.2",
        ]).outcome.history
        // The weights cannot move, so val_loss (evaluated in a fixed order) never improves after
        // epoch 1, and patience 1 stops after epoch 2 (Keras's rule).
        #expect(history.epochs.count == 2, "ran \(history.epochs.count) epochs")
    }

    @Test func formatsAndTheirOptions() throws {
        // CSV with the label in another column (by name), forced format.
        let csv = TinyData.write(
            "species,a\n" + (0..<40).map { "\($0 % 2 == 0 ? "x" : "y"),\($0 % 2)" }.joined(separator: "\n"), "first.csv")
        let byName = try Self.train(["--data", csv, "--label-column", "species", "--format", "csv"]).outcome
        #expect(byName.run.classNames == ["x", "y"] && byName.run.train.inputShape == [1])
        // .npy features with --labels.
        let features = TinyData.root + "/features.npy"
        let labels = TinyData.root + "/labels.npy"
        try NumPyArray(shape: [40, 2], values: (0..<80).map { Float($0 % 4 < 2 ? 1 : -1) }).write(to: features)
        try NumPyArray(shape: [40], values: (0..<40).map { Float($0 % 2) }).write(to: labels)
        let npy = try Self.train(["--data", features, "--labels", labels]).outcome
        #expect(npy.run.train.inputShape == [2] && npy.run.data.outputs == 2)
        #expect(throws: Error.self) { try Self.train(["--data", features]) }  // no --labels
        // PNG folder resized.
        let images = try Self.train(["--data", TinyData.imageFolder, "--image-size", "4,6"]).outcome
        #expect(images.run.train.inputShape == [4, 6, 1])
        #expect(images.run.classNames == ["left", "right"])
        // Options that do not apply to the format are refused.
        #expect(throws: Error.self) { try Self.train(["--image-size", "4,4"]) }
        #expect(throws: Error.self) { try Self.train(["--data", TinyData.imageFolder, "--label-column", "x"]) }
    }

    @Test func splitsHaveTheAskedSizes() throws {
        let run = try Self.train(["--test-split", "0.5", "--validation-split", "0.25", "--stratify", "--epochs", "1"]).outcome.run
        #expect(run.test.count == 45)
        #expect(run.validation?.count == 11 || run.validation?.count == 12)
        let labels = try (0..<run.validation!.count).map { try run.validation!.target(at: $0)[0] }
        #expect(Set(labels).count == 3, "stratified validation keeps every class")
        #expect(try Self.train(["--validation-split", "0.2", "--epochs", "1"]).outcome.history.epochs[0].validation != nil)
        #expect(throws: Error.self) { try Self.train(["--stratify"]) }  // without --validation-split
    }

    @Test func subsetsOfTheData() throws {
        let run = try Self.train(["--only-classes", "virginica,0", "--train-samples", "20", "--epochs", "1"]).outcome.run
        #expect(run.classNames == ["virginica", "setosa"] && run.train.count == 20)
        let labels = try (0..<run.train.count).map { try run.train.target(at: $0)[0] }
        #expect(labels.filter { $0 == 0 }.count == 10 && labels.filter { $0 == 1 }.count == 10, "spread evenly: \(labels)")
        let test = try (0..<run.test.count).map { try run.test.target(at: $0)[0] }
        #expect(!test.isEmpty && test.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(throws: Error.self) { try Self.train(["--only-classes", "setosa"]) }  // one class
        #expect(throws: Error.self) { try Self.train(["--only-classes", "0,daisy"]) }
        #expect(throws: Error.self) { try Self.train(["--only-classes", "0,1", "--data", TinyData.regressionCSV]) }
    }

    @Test func transferLearning() throws {
        // Pretrain on two classes, transfer to all three.
        let base = TinyData.root + "/base-\(UUID().uuidString.prefix(6)).safetensors"
        _ = try Self.train(["--only-classes", "0,1", "--hidden", "8,6", "--batch-norm", "--save", base, "--epochs", "2"])
        let (pretrained, _) = try Model.load(from: base)
        let old = Dictionary(uniqueKeysWithValues: pretrained.stateDict().map { ($0.name, $0.value.scalars) })
        func finetune(_ extra: [String]) throws -> TrainingOutcome {
            try Self.train(["--from", base, "--train-samples", "24", "--lr", "0.01"] + extra).outcome
        }
        // Layers: 0 normalization, 1 flatten, 2 dense, 3 batch norm, 4 relu, 5 dense, 6 batch norm, 7 relu, 8 head.
        let frozen = try finetune([])
        #expect(frozen.run.classNames.count == 3 && frozen.run.model.architecture?.layers.count == 9)
        #expect(frozen.run.model.architecture?.layers.last == .dense(units: 3))
        for (name, value) in frozen.run.model.stateDict() where !name.hasPrefix("layers.8.") {
            #expect(old[name] == value.scalars, "\(name) moved although frozen (batch-norm statistics included)")
        }
        let partly = try finetune(["--freeze-until", "3"])
        let moved = Set(partly.run.model.stateDict().filter { old[$0.name] != $0.value.scalars }.map { $0.name.split(separator: ".")[1] })
        #expect(moved == ["5", "6", "8"], "\(moved)")
        let byType = try finetune(["--freeze-until", "batch_norm"])  // the last batch norm before the head: layer 6
        #expect(byType.run.model.parameters(ofLayer: 5).allSatisfy { !$0.isTrainable })
        let unfrozen = try finetune(["--unfreeze-after", "1", "--fine-tune-lr-scale", "0.5", "--classes", "3"])
        #expect(unfrozen.run.model.stateDict().filter { $0.name.hasPrefix("layers.2.") }.allSatisfy { old[$0.name] != $0.value.scalars })
        #expect(throws: Error.self) { try finetune(["--freeze-until", "8"]) }  // the head itself
        // A convolutional net: by default its base is frozen through the flatten, the dense layers train.
        let cnn = TinyData.root + "/cnn-base-\(UUID().uuidString.prefix(6)).safetensors"
        _ = try Self.train(["--data", TinyData.imageFolder, "--model", "cnn", "--width", "0.25", "--save", cnn, "--epochs", "1"])
        let transferred = try Self.train(["--data", TinyData.imageFolder, "--from", cnn, "--epochs", "1"]).outcome.run
        let types = transferred.architecture.layers.map(\.typeName)
        let flatten = try #require(types.firstIndex(of: "flatten"))
        for index in types.indices where !transferred.model.parameters(ofLayer: index).isEmpty {
            #expect(
                transferred.model.parameters(ofLayer: index).allSatisfy { $0.isTrainable == (index > flatten) },
                "layer \(index) \(types[index])")
        }
        #expect(throws: Error.self) { try finetune(["--classes", "4"]) }
        #expect(throws: Error.self) { try finetune(["--hidden", "4"]) }
        #expect(throws: Error.self) { try Self.train(["--freeze-until", "2"]) }  // without --from
        #expect(throws: Error.self) { try finetune(["--data", TinyData.imageFolder]) }  // other samples
    }

    @Test func normalizationIsPartOfTheModel() throws {
        #expect(Self.layers(try Self.train(["--normalize", "standard"]).outcome).first is Normalization)
        #expect(Self.layers(try Self.train(["--normalize", "minmax"]).outcome).first is Normalization)
        #expect(Self.layers(try Self.train(["--normalize", "auto"]).outcome).first is Normalization)  // CSV features
        #expect(!(Self.layers(try Self.train(["--normalize", "none"]).outcome).first is Normalization))
        #expect(!(Self.layers(try Self.train(["--data", TinyData.imageFolder]).outcome).first is Normalization))  // images: auto = none
    }

    @Test func loaderOptions() throws {
        let augmented = try Self.train(["--data", TinyData.imageFolder, "--augment", "flip,shift:1", "--prefetch", "off"]).outcome.run
            .loader
        #expect(augmented.augmentation?.description == "flip,shift:1" && augmented.prefetch == false)
        #expect(try Self.train(["--prefetch", "on"]).outcome.run.loader.prefetch)
        #expect(try Self.train([]).outcome.run.loader.prefetch == false)
        #expect(throws: Error.self) { try Self.train(["--augment", "flip"]) }  // CSV rows are not images
    }

    @Test func classificationReportNamesTheClasses() throws {
        let (outcome, output) = try Self.train(["--class-names", "a,b,c", "--top-k", "2", "--epochs", "8", "--lr", "0.01"])
        let report = try #require(outcome.classification)
        #expect(report.classNames == ["a", "b", "c"])
        #expect(report.topK[2]! >= report.accuracy)
        #expect(output.contains { $0.contains("top-2 accuracy") })
        #expect(report.count == outcome.run.test.count)
        #expect(abs(report.accuracy - (outcome.test["accuracy"] ?? -1)) < 1e-9)
        #expect(throws: Error.self) { try Self.train(["--class-names", "a,b"]) }  // 3 classes
        #expect(throws: Error.self) { try Self.train(["--top-k", "4"]) }
    }

    @Test func csvLogWritesOneRowPerEpoch() throws {
        let path = TinyData.root + "/log-\(UUID().uuidString).csv"
        _ = try Self.train(["--csv-log", path, "--epochs", "3"])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4 && lines[0].hasPrefix("epoch,learning_rate"))
        #expect { try Self.train(["--csv-log", "/nonexistent-folder/log.csv"]) } throws: { error in
            "\(error)".contains("/nonexistent-folder/log.csv") && "\(error)".contains("No such file or directory")
        }
    }

    @Test func threadsAreSet() throws {
        let before = Backends.threadCount
        defer { Backends.setThreadCount(before) }
        _ = try Self.train(["--threads", "1", "--epochs", "1"])
        #expect(Backends.threadCount == 1)
    }

    @Test func seedFixesTheRun() throws {
        func weights(_ seed: String) throws -> [Float] {
            try Self.train(["--seed", seed, "--dropout", "0.2"]).outcome.run.model.namedParameters.flatMap { $0.parameter.value.scalars }
        }
        #expect(try weights("4") == weights("4"))
        #expect(try weights("4") != weights("5"))
    }
}
