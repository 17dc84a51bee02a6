import Backprop
import Foundation
import Synchronization
import Testing

@testable import BackpropCommands

/// `backprop train --logdir` on a Fashion-MNIST CNN, tried as a user would: TensorBoard's own
/// reader lists its scalars, histograms, images and text; the HTML report renders in headless
/// Chromium with every panel filled, also while training is still running. scripts/test.sh
/// installs tensorboard (pip) and chromium (apt).
@Suite(.serialized)
struct MonitoringCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// One CNN run with --logdir, and a copy of its report taken while it was still training.
    static let run: (logdir: String, midRun: String?, result: Tool.Result) = {
        let folder = TinyData.root + "/monitoring-\(UUID().uuidString)"
        let logdir = folder + "/logs"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let arguments = [
            "train", "--model", "cnn", "--width", "0.25", "--epochs", "3", "--train-samples", "1200", "--validation-split", "0.2",
            "--logdir", logdir, "--monitor-every", "5", "--save", folder + "/model.safetensors", "--checkpoint-dir",
            folder + "/checkpoints",
        ]
        let process = Process()
        process.executableURL = Tool.executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: TinyData.root)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        var midRun: String?
        let collected = Mutex<(Data, Data)>((Data(), Data()))
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            collected.withLock { $0.0.append(data) }
        }
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            collected.withLock { $0.1.append(data) }
        }
        try? process.run()
        // Take the page as a watcher would: after an epoch, before the run ends.
        while process.isRunning {
            if midRun == nil, let page = try? String(contentsOfFile: logdir + "/report.html", encoding: .utf8),
                page.contains("epoch 1 of 3 done")
            {
                let copy = folder + "/mid-run.html"
                try? page.write(toFile: copy, atomically: true, encoding: .utf8)
                midRun = copy
            }
            usleep(20_000)
        }
        output.fileHandleForReading.readabilityHandler = nil
        errors.fileHandleForReading.readabilityHandler = nil
        let (out, err) = collected.withLock { $0 }
        let result = Tool.Result(
            arguments: arguments, status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
            timedOut: false, standardOutput: String(decoding: out, as: UTF8.self), standardError: String(decoding: err, as: UTF8.self))
        return (logdir, midRun, result)
    }()

    static func python(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python failed (scripts/test.sh installs tensorboard): \(message.suffix(1500))")
        return data
    }

    @Test func theRunEndsWithASummaryNamingItsLogs() {
        let result = Self.run.result
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput.contains("s per epoch") && result.standardOutput.contains("best epoch"))
        #expect(result.standardOutput.contains("tensorboard --logdir \(Self.run.logdir)"))
        #expect(result.standardOutput.contains("\(Self.run.logdir)/report.html"))
        let csv = (try? String(contentsOfFile: Self.run.logdir + "/history.csv", encoding: .utf8)) ?? ""
        #expect(csv.split(separator: "\n").first == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,batch_size,seconds")
        #expect(csv.split(separator: "\n").count == 4)
        let lines = ((try? String(contentsOfFile: Self.run.logdir + "/history.jsonl", encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines.count == 3)
        let last = lines.last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(last?["epoch"] as? Int == 3 && last?["val_accuracy"] is Double)
    }

    @Test func tensorBoardReadsScalarsHistogramsImagesAndText() throws {
        #expect(Self.run.result.status == 0, "\(Self.run.result)")
        let data = try Self.python([Self.fixtures + "/tensorboard_check.py", Self.run.logdir])
        let found = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: [String: Any]]])
        let train = try #require(found["train"])
        let validation = try #require(found["validation"])
        let scalars = Set((train["scalars"] ?? [:]).keys)
        for tag in ["epoch/loss", "epoch/accuracy", "epoch/learning_rate", "epoch/batch_size", "batch/loss", "batch/learning_rate"] {
            #expect(scalars.contains(tag), "\(tag) missing from \(scalars.sorted())")
        }
        #expect(scalars.contains { $0.hasPrefix("update_ratio/layers.") } && scalars.contains { $0.hasPrefix("gradient_norm/layers.") })
        #expect((train["scalars"]?["epoch/loss"] as? [[Double]])?.count == 3)
        #expect(Set((validation["scalars"] ?? [:]).keys).isSuperset(of: ["epoch/loss", "epoch/accuracy"]))
        let histograms = Set((train["histograms"] ?? [:]).keys)
        for prefix in ["weights/layers.0.weight", "gradients/layers.0.weight", "activations/layers.0"] {
            #expect(histograms.contains(prefix), "\(prefix) missing from \(histograms.sorted())")
        }
        #expect(Set((train["images"] ?? [:]).keys) == ["filters/layers.0"])
        #expect((validation["images"] ?? [:]).keys.contains("worst_examples"))
        let summary = (train["text"]?["model/summary"] as? [String])?.first ?? ""
        #expect(summary.contains("Total params") && summary.contains("backprop-architecture"))
    }

    /// Renders `page` with headless Chromium: the DOM after loading, and a screenshot.
    static func render(_ page: String) throws -> (dom: String, screenshot: PNGImage) {
        let shot = page + ".png"
        func chromium(_ extra: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + extra + ["file://" + page]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "chromium failed (scripts/test.sh installs it)")
            return String(decoding: data, as: UTF8.self)
        }
        _ = try chromium(["--screenshot=\(shot)", "--window-size=1400,3600"])
        let dom = try chromium(["--dump-dom"])
        return (dom, try PNGImage(contentsOf: shot, channels: 3))
    }

    static let panels = [
        "loss", "metrics", "schedule", "activations", "update-ratio", "units", "gradients", "confusion", "worst", "filters",
    ]

    static func inkFraction(_ image: PNGImage) -> Double {
        var ink = 0
        for index in stride(from: 0, to: image.pixels.count, by: 3) where image.pixels[index..<(index + 3)].contains(where: { $0 < 200 }) {
            ink += 1
        }
        return Double(ink) / Double(image.width * image.height)
    }

    @Test func theReportRendersWithEveryPanelFilled() throws {
        #expect(Self.run.result.status == 0, "\(Self.run.result)")
        let (dom, screenshot) = try Self.render(Self.run.logdir + "/report.html")
        for panel in Self.panels {
            #expect(dom.contains("id=\"panel-\(panel)\" data-filled=\"true\""), "panel \(panel) is missing or empty")
        }
        #expect(dom.contains("Finished: 3 epochs") && !dom.contains("http-equiv=\"refresh\""))
        #expect(dom.components(separatedBy: "<svg").count > 10 && dom.components(separatedBy: "data:image/png;base64,").count == 3)
        // Self-contained: no scripts, nothing fetched.
        #expect(!dom.contains("<script") && !dom.contains("src=\"http") && !dom.contains("href=\"http") && !dom.contains("<link"))
        #expect(screenshot.width == 1400 && Set(screenshot.pixels).count > 50)
        #expect(Self.inkFraction(screenshot) > 0.03, "the screenshot is (nearly) blank")
    }

    @Test func theReportIsReadableWhileTrainingRuns() throws {
        let page = try #require(Self.run.midRun, "no report.html was seen after epoch 1 while the run was going")
        let (dom, screenshot) = try Self.render(page)
        #expect(dom.contains("Training: epoch 1 of 3 done"))
        for panel in ["loss", "metrics", "activations", "update-ratio", "gradients", "confusion", "filters"] {
            #expect(dom.contains("id=\"panel-\(panel)\" data-filled=\"true\""), "mid-run panel \(panel) is empty")
        }
        #expect(Self.inkFraction(screenshot) > 0.03)
    }
}
