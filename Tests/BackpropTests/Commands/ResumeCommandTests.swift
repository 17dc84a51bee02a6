import Backprop
import Foundation
import Testing

@testable import BackpropCommands

/// Checkpoints and `--resume` through the tool, as a user runs them: interrupted by signals, killed
/// with SIGKILL at random moments, and resumed to the weights of the run that was never stopped.
@Suite(.serialized)
struct ResumeCommandTests {
    /// A small CNN on the 8×8 image folder with batch norm and dropout.
    static let architecture = TinyData.write(
        """
        {"format": "backprop-architecture", "version": 1, "input_shape": [8, 8, 1],
         "layers": [
           {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
           {"type": "batch_norm"},
           {"type": "max_pool2d", "size": 2},
           {"type": "flatten"},
           {"type": "dense", "units": 16, "activation": "relu"},
           {"type": "dropout", "rate": 0.25},
           {"type": "dense", "units": 2}
         ]}
        """, "resume-cnn.json")

    /// Augmentation on the prefetch thread, a validation split, a plateau schedule and dropout.
    static func arguments(name: String, epochs: Int = 40, extra: [String] = []) -> [String] {
        [
            "train", "--data", TinyData.imageFolder, "--model-file", architecture, "--augment", "shift:1", "--epochs", "\(epochs)",
            "--batch-size", "4", "--validation-split", "0.25", "--lr-schedule", "plateau", "--patience", "1", "--name", name, "--quiet",
        ] + extra
    }

    static func weights(_ path: String) throws -> [String: [UInt32]] {
        try SafeTensors(contentsOf: path).tensors.mapValues { $0.values.map(\.bitPattern) }
    }

    static func uniqueName(_ base: String) -> String { "\(base)-\(UUID().uuidString.prefix(8))" }

    @Test(arguments: [SIGINT, SIGTERM])
    func interruptedRunsResumeToTheSameWeights(signal: Int32) throws {
        let reference = Self.uniqueName("reference")
        let full = Tool.run(Self.arguments(name: reference, epochs: 120))
        #expect(full.status == 0, "\(full)")
        let name = Self.uniqueName("interrupted")
        let stopped = Tool.run(
            Self.arguments(name: name, epochs: 120, extra: ["--checkpoint-every", "5"]), signal: signal, signalAfter: 1.2)
        #expect(stopped.status == 128 + signal && !stopped.signaled, "\(stopped)")
        #expect(stopped.standardError.contains("saved a checkpoint to runs/\(name)/checkpoints/epoch-"), "\(stopped)")
        #expect(stopped.standardError.contains("continue with: backprop train --resume runs/\(name)"), "\(stopped)")
        let resumed = Tool.run(["train", "--resume", "runs/\(name)", "--quiet"])
        #expect(resumed.status == 0, "\(resumed)")
        let same =
            try Self.weights(TinyData.root + "/runs/\(name)/model.safetensors")
            == Self.weights(TinyData.root + "/runs/\(reference)/model.safetensors")
        #expect(same, "the resumed run's weights differ from the uninterrupted run's")
    }

    /// Killed at random moments — often inside a checkpoint write, which is most of each step here —
    /// the newest checkpoint always reads, and the run always resumes to the same final weights.
    @Test func sigkillAtRandomMomentsNeverLosesTheRun() throws {
        let reference = Self.uniqueName("reference")
        #expect(Tool.run(Self.arguments(name: reference, epochs: 30)).status == 0)
        let name = Self.uniqueName("killed")
        let folder = TinyData.root + "/runs/\(name)/checkpoints"
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var started = false
        for attempt in 0..<12 {
            let arguments =
                started
                ? ["train", "--resume", "runs/\(name)", "--quiet"]
                : Self.arguments(name: name, epochs: 30, extra: ["--checkpoint-every", "1"])
            let result = Tool.run(arguments, signal: SIGKILL, signalAfter: Double.random(in: 0.3...1.2, using: &generator))
            if result.signaled {
                kills += 1
                // Before its first checkpoint a run leaves nothing to resume: start it again.
                started = !ModelCheckpoint.checkpoints(in: folder).isEmpty
                if started {
                    let latest = ModelCheckpoint.latest(in: folder)
                    #expect(latest != nil && latest?.skipped.isEmpty == true, "attempt \(attempt): \(latest?.skipped ?? [])")
                }
                continue
            }
            #expect(result.status == 0, "\(result)")
            break
        }
        #expect(kills >= 3, "only \(kills) kills landed")
        let finished = Tool.run(["train", "--resume", "runs/\(name)", "--quiet"])
        #expect(finished.status == 0, "\(finished)")
        let same =
            try Self.weights(TinyData.root + "/runs/\(name)/model.safetensors")
            == Self.weights(TinyData.root + "/runs/\(reference)/model.safetensors")
        #expect(same, "the resumed run's weights differ from the uninterrupted run's")
    }

    @Test func runFolderHoldsTheModelAndCheckpoints() throws {
        let name = Self.uniqueName("named")
        let result = Tool.run(Self.arguments(name: name, epochs: 2).filter { $0 != "--quiet" })
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput.contains("Saved the model to runs/\(name)/model.safetensors"))
        let (model, metadata) = try Model.load(from: TinyData.root + "/runs/\(name)/model.safetensors")
        #expect(model.inputShape == [8, 8, 1] && metadata["backprop.class_names"] == #"["left","right"]"#)
        #expect(
            ModelCheckpoint.checkpoints(in: TinyData.root + "/runs/\(name)/checkpoints").map(\.name) == [
                "epoch-0001-end.safetensors", "epoch-0002-end.safetensors",
            ])
        // The same name again would mix two runs' checkpoints.
        let again = Tool.run(Self.arguments(name: name, epochs: 2))
        #expect(again.status == 64 && again.standardError.contains("already holds checkpoints"), "\(again)")
        // Without a name, each run gets its own folder.
        let unnamed = ["train", "--data", TinyData.classificationCSV, "--hidden", "4", "--epochs", "1"]
        let first = Tool.run(unnamed)
        let second = Tool.run(unnamed)
        func folder(_ result: Tool.Result) -> String? {
            result.standardOutput.split(separator: "\n").first { $0.hasPrefix("Saved the model to runs/mlp-") }.map(String.init)
        }
        #expect(folder(first) != nil && folder(second) != nil && folder(first) != folder(second), "\(first.standardOutput.suffix(200))")
    }

    @Test func checkpointOptionsDecideWhatIsKept() throws {
        let folder = TinyData.root + "/kept-\(UUID().uuidString)"
        let model = folder + "-model.safetensors"
        let result = Tool.run(
            Self.arguments(
                name: "unused", epochs: 3,
                extra: [
                    "--checkpoint-dir", folder, "--checkpoint-every", "2", "--keep-checkpoints", "3", "--save", model,
                ]))
        #expect(result.status == 0, "\(result)")
        // 18 samples minus a quarter for validation → 14 → 4 steps per epoch, 12 in all; the best by val_loss too.
        #expect(
            ModelCheckpoint.checkpoints(in: folder).map(\.name) == [
                "epoch-0003-step-00000010.safetensors", "epoch-0003-step-00000012.safetensors", "epoch-0003-end.safetensors",
            ])
        #expect(FileManager.default.fileExists(atPath: folder + "/best.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: TinyData.root + "/runs/unused"))
        let final = try TrainingCheckpoint(contentsOf: folder + "/epoch-0003-end.safetensors")
        #expect(final.progress.globalStep == 12 && final.progress.epoch == 3 && final.progress.epochComplete)
        #expect(try Self.weights(model) == Self.weights(folder + "/epoch-0003-end.safetensors").filter { !$0.key.hasPrefix("training/") })
    }

    @Test func resumeProblemsAreNamed() throws {
        let options = Tool.run(["train", "--resume", "runs/x", "--lr", "0.1"])
        #expect(options.status == 64 && options.standardError.contains("--lr cannot be given with it"), "\(options)")
        let missing = Tool.run(["train", "--resume", "runs/none-such"])
        #expect(missing.status == 1 && missing.standardError.contains("runs/none-such"), "\(missing)")
        let empty = TinyData.root + "/empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let nothing = Tool.run(["train", "--resume", empty])
        #expect(nothing.status == 1 && nothing.standardError.contains("epoch-"), "\(nothing)")
        // A truncated newest checkpoint is skipped with a note; a lone broken one is named.
        let name = Self.uniqueName("broken")
        #expect(Tool.run(Self.arguments(name: name, epochs: 2)).status == 0)
        let newest = TinyData.root + "/runs/\(name)/checkpoints/epoch-0002-end.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: newest))
        let skipped = Tool.run(["train", "--resume", "runs/\(name)", "--quiet"])
        #expect(skipped.status == 0 && skipped.standardOutput.contains("Skipped a checkpoint"), "\(skipped)")
        let lone = TinyData.root + "/lone-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: lone, withIntermediateDirectories: true)
        try bytes.prefix(100).write(to: URL(fileURLWithPath: lone + "/epoch-0001-end.safetensors"))
        let broken = Tool.run(["train", "--resume", lone])
        #expect(broken.status == 1 && broken.standardError.contains("epoch-0001-end.safetensors"), "\(broken)")
        // A model file is not a checkpoint.
        let (model, _) = (TinyData.root + "/runs/\(name)/model.safetensors", 0)
        let notCheckpoint = Tool.run(["train", "--resume", model])
        #expect(notCheckpoint.status == 1 && notCheckpoint.standardError.contains("backprop.checkpoint"), "\(notCheckpoint)")
    }
}
