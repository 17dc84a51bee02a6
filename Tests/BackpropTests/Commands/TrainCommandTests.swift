import ArgumentParser
import Backprop
import Foundation
import Testing

@testable import BackpropCommands

struct TrainCommandTests {
    @Test func badOptionValuesAreRejectedWithTheirName() throws {
        for (arguments, fragment) in [
            (["train", "--epochs", "0"], "--epochs must be between 1"), (["train", "--epochs", "-1"], "--epochs must be between 1"),
            (["train", "--hidden", "512,x"], "--hidden"), (["train", "--hidden", "32,,16"], "--hidden"), (["train", "--lr", "-1"], "--lr"),
            (["train", "--augment", ""], "--augment"), (["train", "--prefetch", "sometimes"], "--prefetch"),
            (["train", "--image-size", "9223372036854775807,2"], "--image-size"),
            (["train", "--milestones", "9223372036854775807"], "--milestones"),
            (["train", "--batch-schedule", "step", "--decay-factor", "1e-30"], "--decay-factor"),
            (["summary", "--model", "cnn", "--width", "nan"], "--width"), (["summary", "--classes", "-1"], "--classes"),
        ] {
            #expect(throws: Error.self, "\(arguments)") {
                var command = try BackpropCommand.parseAsRoot(arguments)
                try command.run()
            }
            do {
                var command = try BackpropCommand.parseAsRoot(arguments)
                try command.run()
            } catch {
                let (message, status) = BackpropCommand.report(for: error)
                #expect(message.contains(fragment) && status != 0 && !message.contains("\n"), "\(arguments): \(message)")
            }
        }
    }

    @Test func missingDataDirectoryIsAClearError() throws {
        #expect { try TrainOptionTests.train(["--data", "/nonexistent/fashion"]) } throws: { error in
            let message = BackpropCommand.report(for: error).message
            return message.contains("/nonexistent/fashion") && message.contains("not found")
        }
    }

    /// Runs `train` in process on `arguments` and returns the one-line error it stops with.
    func failure(_ arguments: [String]) -> String {
        do {
            _ = try TrainOptionTests.train(arguments)
            return "no error"
        } catch {
            return BackpropCommand.report(for: error).message
        }
    }

    static func archive(_ arrays: [String: NumPyArray]) throws -> String {
        let path = TinyData.root + "/\(UUID().uuidString).npz"
        try NumPyArchive.write(arrays, to: path)
        return path
    }

    @Test func labelsThatAreNotClassesAreRefusedBeforeTraining() throws {
        for bad in [Float.infinity, 1e30, 0x1p63, 1e9, -1, 0.5, .nan] {
            let labels = (0..<20).map { $0 == 7 ? bad : Float($0 % 2) }
            let path = try Self.archive([
                "x": NumPyArray(shape: [20, 3], values: (0..<60).map(Float.init)), "y": NumPyArray(shape: [20], values: labels),
            ])
            let message = failure(["--data", path, "--task", "classification"])
            #expect(message.contains("\(path): y") && (message.contains("label 7") || message.contains("target 7")), "\(bad): \(message)")
        }
    }

    @Test func nonFiniteInputsAreReportedWithTheirSample() throws {
        var values = (0..<60).map(Float.init)
        values[3 * 11 + 2] = .nan
        let path = try Self.archive([
            "x": NumPyArray(shape: [20, 3], values: values), "y": NumPyArray(shape: [20], values: (0..<20).map { Float($0 % 2) }),
        ])
        let message = failure(["--data", path])
        #expect(message.contains("sample 11, input 2") && message.contains("nan"), "\(message)")
    }

    @Test func aTestSplitOfAnotherShapeIsRefusedBeforeTraining() throws {
        let labels = NumPyArray(shape: [10], values: (0..<10).map { Float($0 % 2) })
        let path = try Self.archive([
            "x_train": NumPyArray(shape: [10, 4], values: [Float](repeating: 1, count: 40)), "y_train": labels,
            "x_test": NumPyArray(shape: [10, 5], values: [Float](repeating: 1, count: 50)), "y_test": labels,
        ])
        let message = failure(["--data", path])
        #expect(message.contains("x_test") && message.contains("[5]") && message.contains("[4]"), "\(message)")
        // Gray and RGB images in one folder: the first image fixes the channels, the others convert.
        let empty = try Self.archive([
            "x_train": NumPyArray(shape: [0, 4], values: []), "y_train": NumPyArray(shape: [0], values: []),
            "x_test": NumPyArray(shape: [10, 4], values: [Float](repeating: 1, count: 40)), "y_test": labels,
        ])
        #expect(failure(["--data", empty]).contains("no training samples"))
    }

    /// IDX files written byte by byte: header, then the data.
    static func idx(_ shape: [Int], _ bytes: [UInt8]) -> Data {
        var data = Data([0, 0, 8, UInt8(shape.count)])
        for extent in shape {
            data += [UInt8(extent >> 24 & 255), UInt8(extent >> 16 & 255), UInt8(extent >> 8 & 255), UInt8(extent & 255)]
        }
        return data + bytes
    }

    static func idxFolder(train: (images: Data, labels: Data), test: (images: Data, labels: Data)) -> String {
        let folder = TinyData.root + "/idx-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, data) in [
            ("train-images-idx3-ubyte", train.images), ("train-labels-idx1-ubyte", train.labels), ("t10k-images-idx3-ubyte", test.images),
            ("t10k-labels-idx1-ubyte", test.labels),
        ] {
            FileManager.default.createFile(atPath: folder + "/" + name, contents: data)
        }
        return folder
    }

    @Test func idxEdgeCases() throws {
        let labels26 = (0..<52).map { UInt8($0 % 26 + 1) }  // EMNIST letters: 1…26
        let images = Self.idx([52, 4, 4], (0..<(52 * 16)).map { UInt8($0 % 251) })
        let letters = Self.idxFolder(train: (images, Self.idx([52], labels26)), test: (images, Self.idx([52], labels26)))
        let outcome = try TrainOptionTests.train(["--data", letters, "--epochs", "1"]).outcome
        #expect(outcome.run.data.outputs == 27, "the class count comes from the labels")
        let small = Self.idx([52, 2, 2], [UInt8](repeating: 3, count: 52 * 4))
        let mismatched = Self.idxFolder(train: (images, Self.idx([52], labels26)), test: (small, Self.idx([52], labels26)))
        #expect(failure(["--data", mismatched]).contains("t10k-images-idx3-ubyte"))
        // A header declaring 2^32-ish extents with no data, and zero extents.
        let huge = Self.idxFolder(
            train: (Self.idx([5000, 65535, 65535], []), Self.idx([5000], [])), test: (images, Self.idx([52], labels26)))
        let hugeMessage = failure(["--data", huge])
        #expect(hugeMessage.contains("train-images-idx3-ubyte"), "\(hugeMessage)")
        let zero = Self.idxFolder(
            train: (Self.idx([0, 524288, 1_048_576], []), Self.idx([0], [])), test: (images, Self.idx([52], labels26)))
        let zeroMessage = failure(["--data", zero])
        #expect(zeroMessage.contains("no training samples") || zeroMessage.contains("train-images"), "\(zeroMessage)")
        let noPixels = Self.idxFolder(
            train: (Self.idx([52, 0, 4], []), Self.idx([52], labels26)), test: (images, Self.idx([52], labels26)))
        #expect(failure(["--data", noPixels]).contains("no values"))
    }

    @Test func csvControlCharactersAreErrorsNotJoinedNumbers() throws {
        for (field, escaped) in [("1\u{0}2", "\\u{0}"), ("3\r4", "\\u{d}")] {
            let path = TinyData.write("a,b,label\n1,2,x\n\(field),5,y\n6,7,x\n", "control-\(UUID().uuidString).csv")
            let message = failure(["--data", path])
            #expect(message.contains("row 3, column a") && message.contains(escaped), "\(message)")
        }
        // CRLF line ends still read.
        let crlf = TinyData.write((["a,label"] + (0..<20).map { "\($0),\($0 % 2)" }).joined(separator: "\r\n"), "crlf.csv")
        #expect(try TrainOptionTests.train(["--data", crlf, "--epochs", "1"]).outcome.run.train.count == 16)
    }

    @Test func corruptNumPyHeaderIsShownWithoutBinary() throws {
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, 40, 0])
        data += Data((0..<40).map { UInt8(($0 * 37 + 3) % 256) })
        let path = TinyData.write(data, "corrupt.npy")
        let labels = TinyData.root + "/corrupt-labels.npy"
        try NumPyArray(shape: [2], values: [0, 1]).write(to: labels)
        let message = failure(["--data", path, "--labels", labels])
        #expect(message.contains(path))
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }, "\(message)")
    }

    @Test func splitsThatCannotWorkNameTheOption() {
        #expect(failure(["--validation-split", "0.001", "--stratify"]).contains("--validation-split"))
        #expect(failure(["--test-split", "0.001"]).contains("--test-split"))
        #expect(failure(["--data", TinyData.imageFolder, "--test-split", "0.3", "--format", "idx"]).contains("not found"))
    }

    @Test func requestsThatCannotFitAreRefusedWithTheSize() {
        let message = failure(["--hidden", "1000000,1000000"])
        #expect(message.contains("GB") && message.contains("memory"), "\(message)")
        #expect(failure(["--data", TinyData.imageFolder, "--image-size", "65536,65536"]).contains("--image-size"))
    }
}

/// One `backprop train` command for each data format, on small data, with an accuracy floor.
struct TrainCommandFormatTests {
    func train(_ arguments: [String]) throws -> TrainingOutcome {
        try TrainOptionTests.train(["--epochs", "8", "--batch-size", "8", "--lr", "0.01"] + arguments).outcome
    }

    @Test func trainsFromCSV() throws {
        let outcome = try train(["--data", TinyData.classificationCSV, "--hidden", "8"])
        #expect((outcome.test["accuracy"] ?? 0) > 0.8, "\(outcome.test)")
    }

    @Test func trainsFromNumPyArchives() throws {
        _ = try train(["--data", NumPyTests.folder + "/xy.npz", "--hidden", "8", "--epochs", "2"])
        let images = try train(["--data", TinyData.imageArchive, "--model", "cnn", "--augment", "flip,shift:1"])
        #expect((images.test["accuracy"] ?? 0) > 0.8, "\(images.test)")
    }

    @Test func trainsFromAPNGFolder() throws {
        let outcome = try train(["--data", TinyData.imageFolder, "--model", "cnn", "--validation-split", "0.25"])
        #expect((outcome.test["accuracy"] ?? 0) > 0.7, "\(outcome.test)")
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
        // 4 columns of 6-pixel images at scale 3, with a 2-pixel gap around each: 4 × (18 + 2) + 2.
        #expect(picture.channels == 3 && picture.width == 4 * (6 * 3 + 2) + 2 && picture.height == 6 * 3 + 4)
    }
}

/// What only a separate process shows: output streams, exit statuses, signals.
@Suite(.serialized)
struct TrainCommandProcessTests {
    @Test func quietPrintsOnlyTheTestFigures() {
        let result = Tool.run([
            "train", "--quiet", "--data", TinyData.classificationCSV, "--hidden", "4", "--epochs", "4", "--lr", "1e-30", "--lr-schedule",
            "plateau",
            "--patience", "0", "--validation-split", "0.2",
        ])
        #expect(result.status == 0, "\(result)")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("Test loss:"), "\(result.standardOutput)")
        let loud = Tool.run([
            "train", "--data", TinyData.classificationCSV, "--hidden", "4", "--epochs", "4", "--lr", "1e-30", "--lr-schedule", "plateau",
            "--patience", "0", "--validation-split", "0.2",
        ])
        #expect(loud.standardOutput.contains("ReduceLROnPlateau reducing learning rate"), "\(loud.standardOutput.suffix(500))")
        #expect(loud.standardOutput.contains("Confusion matrix") && loud.standardOutput.contains("versicolor"))
    }

    @Test func aRunThatDivergesExitsNonZero() {
        let result = Tool.run(["train", "--quiet", "--data", TinyData.regressionCSV, "--lr", "1e30", "--optimizer", "sgd", "--epochs", "2"])
        #expect(result.status == 1 && !result.signaled, "\(result)")
        #expect(
            result.errorLines.count == 1 && result.standardError.contains("diverged") && result.standardError.contains("--lr"), "\(result)")
    }

    /// SIGINT, SIGTERM and SIGQUIT stop training between steps with a message and status 128 + n,
    /// never a crash report.
    @Test(arguments: [SIGINT, SIGTERM, SIGQUIT])
    func signalsStopTrainingCleanly(signal: Int32) {
        let result = Tool.run(
            ["train", "--data", TinyData.classificationCSV, "--hidden", "64", "--epochs", "100000", "--batch-size", "1"], timeout: 120,
            signal: signal, signalAfter: 4)
        #expect(!result.signaled && result.status == 128 + signal, "\(result)")
        #expect(result.standardError.contains("interrupted by") && result.standardError.contains("Interrupt received"), "\(result)")
        #expect(!result.standardError.contains("Crash") && !result.standardError.contains("Backtrace"), "\(result)")
    }
}
