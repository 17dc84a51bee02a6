import ArgumentParser
import Backprop
import BackpropCommands
import Foundation
import Testing

struct TrainCommandTests {
    @Test func helpDocumentsEveryOption() {
        let help = BackpropCommand.helpMessage(for: TrainCommand.self)
        for option in [
            "--model", "--hidden", "--epochs", "--batch-size", "--optimizer", "--lr", "--momentum", "--dropout",
            "--validation-split", "--seed", "--data", "--quiet",
        ] {
            #expect(help.contains(option), "help lacks \(option)")
        }
        #expect(BackpropCommand.helpMessage().contains("train"))
    }

    @Test func badOptionValuesAreRejectedWithTheirName() throws {
        for (arguments, fragment) in [
            (["train", "--epochs", "0"], "--epochs"), (["train", "--hidden", "512,x"], "--hidden"),
            (["train", "--lr", "-1"], "--lr"),
        ] {
            #expect {
                var command = try BackpropCommand.parseAsRoot(arguments)
                try command.run()
            } throws: { BackpropCommand.fullMessage(for: $0).contains(fragment) }
        }
    }

    @Test func missingDataDirectoryIsAClearError() throws {
        var command = try BackpropCommand.parseAsRoot(["train", "--data", "/nonexistent/fashion", "--quiet"])
        #expect { try command.run() } throws: { error in
            let message = BackpropCommand.fullMessage(for: error)
            return message.contains("/nonexistent/fashion") && message.contains("not found")
        }
    }
}

/// One `backprop train` command for each data format, on small data.
struct TrainCommandFormatTests {
    func train(_ arguments: [String]) throws {
        var command = try BackpropCommand.parseAsRoot(["train", "--quiet", "--epochs", "2", "--batch-size", "8"] + arguments)
        try command.run()
    }

    @Test func trainsFromCSV() throws {
        var lines = ["f1,f2,f3,kind"]
        var generator = RandomGenerator(seed: 1)
        for row in 0..<60 {
            let kind = ["small", "large"][row % 2]
            let centre: Float = row % 2 == 0 ? -1 : 1
            lines.append((0..<3).map { _ in "\(centre + generator.nextNormal() * 0.3)" }.joined(separator: ",") + ",\(kind)")
        }
        let path = NSTemporaryDirectory() + "backprop-\(UUID().uuidString).csv"
        _ = FileManager.default.createFile(atPath: path, contents: Data(lines.joined(separator: "\n").utf8))
        try train(["--data", path, "--label-column", "kind", "--hidden", "8"])
    }

    @Test func trainsFromNumPyArchives() throws {
        try train(["--data", NumPyTests.folder + "/xy.npz", "--hidden", "8"])
        try train(["--data", NumPyTests.folder + "/images_compressed.npz", "--model", "cnn", "--augment", "flip,shift:1"])
    }

    @Test func trainsFromAPNGFolder() throws {
        let root = NSTemporaryDirectory() + "backprop-png-\(UUID().uuidString)"
        for (index, name) in ["left", "right"].enumerated() {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            for sample in 0..<10 {
                let pixels = (0..<64).map { UInt8(($0 % 8 < 4) == (index == 0) ? 200 + sample : 10) }
                try PNGImage(width: 8, height: 8, channels: 1, pixels: pixels).write(to: "\(root)/\(name)/\(sample).png")
            }
        }
        try train(["--data", root, "--model", "cnn", "--validation-split", "0.25"])
    }

    @Test func augmentPreviewWritesAPicture() throws {
        let root = NSTemporaryDirectory() + "backprop-preview-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/a", withIntermediateDirectories: true)
        try PNGImage(width: 6, height: 6, channels: 3, pixels: (0..<108).map { UInt8($0) }).write(to: root + "/a/0.png")
        let output = root + "/preview.png"
        var command = try BackpropCommand.parseAsRoot([
            "augment", "--preview", output, "--data", root, "--format", "images", "--rows", "1", "--copies", "3",
        ])
        try command.run()
        let picture = try PNGImage(contentsOf: output)
        #expect(picture.channels == 3 && picture.width > 4 * 6)
    }
}
