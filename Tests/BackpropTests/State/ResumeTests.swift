import Backprop
import Foundation
import Testing

/// A run resumed from any of its checkpoints ends with bitwise the weights of the run that never
/// stopped: dropout, batch norm, penalties, augmentation on a prefetch thread, a schedule, a
/// plateau callback, early stopping and a batch-size change all included.
struct ResumeTests {
    static let seed: UInt64 = 21

    static func data() -> (train: TensorDataset, validation: TensorDataset) {
        var generator = RandomGenerator(seed: 5)
        let count = 88
        let images = (0..<(count * 64)).map { _ in generator.nextUniform() }
        let labels = (0..<count).map { i in Float(images[(i * 64)..<(i * 64 + 32)].reduce(0, +) > 16 ? 1 : 0) }
        let x = Tensor(images, shape: [count, 8, 8, 1])
        let y = Tensor(labels, shape: [count])
        return (
            TensorDataset(inputs: x.slice([0..<72]), targets: y.slice([0..<72])),
            TensorDataset(inputs: x.slice([72..<count]), targets: y.slice([72..<count]))
        )
    }

    /// A fresh model, optimizer and callbacks of the same run.
    static func makeRun(checkpoints: String) throws -> (Model, DataLoader, DataLoader, [any Callback], ModelCheckpoint) {
        seedGlobalRandom(seed)
        let model = try Architecture(json: Data(ArchitectureFileTests.cnnJSON.utf8), source: "cnn.json").makeModel()
        model.compile(optimizer: Adam(learningRate: 3e-3), loss: SoftmaxCrossEntropy(), metrics: [.accuracy])
        let (train, validation) = data()
        let loader = DataLoader(
            train, batchSize: 16, shuffle: true, seed: seed, augmentation: Augmentation(.horizontalFlip, .shift(1)), prefetch: true)
        let checkpoint = try ModelCheckpoint(directory: checkpoints, everySteps: 2, keepLast: 1000, best: "val_loss")
        let callbacks: [any Callback] = [
            LearningRateScheduler(.cosine(initial: 3e-3, period: 30).withWarmup(steps: 3)),
            ReduceLROnPlateau(monitor: "loss", factor: 0.5, patience: 0, verbose: false),
            EarlyStopping(monitor: "val_loss", patience: 10, restoreBestWeights: true),
            BatchSizeScheduler(.milestones([3: 24])),
            checkpoint,
        ]
        return (model, loader, DataLoader(validation, batchSize: 8), callbacks, checkpoint)
    }

    static func bits(_ model: Model) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.value.scalars.map(\.bitPattern)) })
    }

    @Test func resumingFromAnyCheckpointGivesTheSameFinalWeights() throws {
        let folder = ModelFileTests.folder()
        let (model, loader, validation, callbacks, _) = try Self.makeRun(checkpoints: folder + "/full")
        let history = try model.fit(loader, validation: validation, epochs: 4, callbacks: callbacks, verbose: false)
        let expected = Self.bits(model)
        let files = ModelCheckpoint.checkpoints(in: folder + "/full")
        #expect(files.count > 10 && files.contains { $0.end } && files.contains { !$0.end && $0.epoch == 3 })
        // Inside the first epoch, at an epoch's end, inside the epoch after a batch-size change, the last.
        let picks = [files[0], files.first { $0.end }!, files.first { !$0.end && $0.epoch == 3 }!, files[files.count - 2]]
        for pick in picks {
            let checkpoint = try TrainingCheckpoint(contentsOf: folder + "/full/" + pick.name)
            let (again, loader, validation, callbacks, _) = try Self.makeRun(checkpoints: folder + "/again-\(pick.name)")
            let resumed = try again.fit(
                loader, validation: validation, epochs: 4, callbacks: callbacks, verbose: false, resumingFrom: checkpoint,
                checkpointSource: pick.name)
            let same = Self.bits(again) == expected
            #expect(same, "resumed from \(pick.name)")
            #expect(resumed["loss"] == history["loss"] && resumed["val_loss"] == history["val_loss"], "history from \(pick.name)")
            #expect(resumed.learningRates == history.learningRates)
        }
    }

    @Test func aCheckpointOfAnotherRunIsRefusedAndChangesNothing() throws {
        let folder = ModelFileTests.folder()
        let (model, loader, validation, callbacks, checkpoint) = try Self.makeRun(checkpoints: folder)
        try model.fit(loader, validation: validation, epochs: 1, callbacks: callbacks, verbose: false)
        let saved = try TrainingCheckpoint(contentsOf: try #require(checkpoint.lastPath))

        // Other callbacks.
        seedGlobalRandom(1)
        let other = try Architecture(json: Data(ArchitectureFileTests.cnnJSON.utf8), source: "cnn.json").makeModel()
        other.compile(optimizer: Adam(), loss: SoftmaxCrossEntropy())
        let before = Self.bits(other)
        #expect {
            try other.fit(loader, epochs: 2, verbose: false, resumingFrom: saved, checkpointSource: "ck.safetensors")
        } throws: { "\($0)".contains("ck.safetensors") && "\($0)".contains("callbacks") }
        #expect(Self.bits(other) == before)

        // Another optimizer.
        let sgd = try Architecture(json: Data(ArchitectureFileTests.cnnJSON.utf8), source: "cnn.json").makeModel()
        sgd.compile(optimizer: SGD(learningRate: 0.1, momentum: 0.9), loss: SoftmaxCrossEntropy(), metrics: [.accuracy])
        let (_, _, _, sameCallbacks, _) = try Self.makeRun(checkpoints: folder + "/2")
        #expect {
            try sgd.fit(loader, epochs: 2, callbacks: sameCallbacks, verbose: false, resumingFrom: saved, checkpointSource: "ck")
        } throws: { "\($0)".contains("Adam") && "\($0)".contains("SGD") }
    }

    /// Checkpoints with a broken part: reading or restoring names the file and the part, and the
    /// model is left as it was.
    @Test func brokenCheckpointsAreNamed() throws {
        let folder = ModelFileTests.folder()
        let (model, loader, validation, callbacks, checkpoint) = try Self.makeRun(checkpoints: folder + "/ok")
        try model.fit(loader, validation: validation, epochs: 1, callbacks: callbacks, verbose: false)
        let good = try SafeTensors(contentsOf: try #require(checkpoint.lastPath))
        func broken(_ change: (inout SafeTensors) -> Void, _ text: String, restoring: Bool = false) throws {
            var file = good
            change(&file)
            let path = folder + "/broken-\(UUID().uuidString.prefix(6)).safetensors"
            try file.write(to: path)
            if !restoring {
                #expect(throws: (any Error).self) { try TrainingCheckpoint(contentsOf: path) }
                #expect { try TrainingCheckpoint(contentsOf: path) } throws: { "\($0)".contains(path) && "\($0)".contains(text) }
                return
            }
            let saved = try TrainingCheckpoint(contentsOf: path)
            let (again, loader, validation, callbacks, _) = try Self.makeRun(checkpoints: folder + "/again-\(UUID().uuidString.prefix(6))")
            let before = Self.bits(again)
            #expect {
                try again.fit(
                    loader, validation: validation, epochs: 2, callbacks: callbacks, verbose: false, resumingFrom: saved,
                    checkpointSource: path)
            } throws: { "\($0)".contains(path) && "\($0)".contains(text) }
            #expect(Self.bits(again) == before, "a refused checkpoint changed the model (\(text))")
        }
        func progress(_ edit: @escaping (inout [String: Any]) -> Void) -> (inout SafeTensors) -> Void {
            { file in
                var object =
                    (try? JSONSerialization.jsonObject(with: Data(file.metadata[TrainingCheckpoint.progressKey]!.utf8))) as? [String: Any]
                    ?? [:]
                edit(&object)
                file.metadata[TrainingCheckpoint.progressKey] = String(
                    decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }
        }
        try broken({ $0.metadata[TrainingCheckpoint.progressKey] = nil }, "backprop.checkpoint")
        try broken({ $0.metadata[TrainingCheckpoint.progressKey] = "{" }, "progress")
        try broken(progress { $0["random"] = ["0000000000000000", "0000000000000000", "0000000000000000", "0000000000000000"] }, "random")
        try broken(progress { $0["random"] = ["zz"] }, "progress")
        try broken(progress { $0["batchSize"] = 0 }, "random state")
        try broken({ $0.metadata["backprop.state.callback.EarlyStopping"] = nil }, "EarlyStopping")
        try broken({ $0.tensors["training/callback/Stray/x"] = .init(shape: [1], values: [0]) }, "unlisted")
        try broken({ $0.tensors["training/elsewhere"] = .init(shape: [1], values: [0]) }, "training/elsewhere")
        try broken(progress { $0["sampleCount"] = 5 }, "72 training samples", restoring: true)
        try broken({ $0.tensors["training/optimizer/exp_avg.layers.0.weight"] = nil }, "exp_avg.layers.0.weight", restoring: true)
        try broken(
            { $0.tensors["training/optimizer/exp_avg_sq.layers.8.bias"] = .init(shape: [3], values: [0, 0, 0]) },
            "exp_avg_sq.layers.8.bias",
            restoring: true)
        try broken(
            { $0.metadata["backprop.state.optimizer"] = #"{"kind":"Adam","iterations":-3,"learningRate":0.1}"# }, "iterations",
            restoring: true)
        try broken({ $0.metadata["backprop.state.callback.ReduceLROnPlateau"] = #"{"wait": "x"}"# }, "ReduceLROnPlateau", restoring: true)
        try broken({ $0.tensors["layers.0.weight"] = nil }, "layers.0.weight", restoring: true)
    }

    @Test func keepsTheNewestAndTheBest() throws {
        let folder = ModelFileTests.folder()
        seedGlobalRandom(3)
        let model = try Architecture(json: Data(ArchitectureFileTests.cnnJSON.utf8), source: "cnn.json").makeModel()
        model.compile(optimizer: Adam(), loss: SoftmaxCrossEntropy())
        let (train, validation) = Self.data()
        let checkpoint = try ModelCheckpoint(directory: folder, everySteps: 1, keepLast: 3, best: "val_loss")
        try model.fit(
            DataLoader(train, batchSize: 16), validation: DataLoader(validation, batchSize: 16), epochs: 3, callbacks: [checkpoint],
            verbose: false)
        let names = ModelCheckpoint.checkpoints(in: folder).map(\.name)
        #expect(names == ["epoch-0003-step-00000014.safetensors", "epoch-0003-step-00000015.safetensors", "epoch-0003-end.safetensors"])
        #expect(FileManager.default.fileExists(atPath: folder + "/best.safetensors"))
        // Every checkpoint is a model file too.
        let (loaded, _) = try Model.load(from: folder + "/epoch-0003-end.safetensors")
        #expect(Self.bits(loaded) == Self.bits(model))
        #expect(ModelCheckpoint.latest(in: folder)?.path == folder + "/epoch-0003-end.safetensors")
    }
}
