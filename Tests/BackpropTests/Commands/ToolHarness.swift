import Backprop
import Foundation

/// Runs the built `backprop` executable as a separate process, so a test can see what a user
/// sees: the exit status, whether a signal ended it, and both output streams.
enum Tool {
    /// `.build/debug/backprop`, beside the test bundle.
    static let executable: URL = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("backprop").path) && folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("backprop")
    }()

    struct Result: CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        /// Ended by a signal (a trap is SIGILL or SIGTRAP, a failed allocation SIGABRT).
        let signaled: Bool
        let timedOut: Bool
        let standardOutput: String
        let standardError: String

        var description: String {
            "backprop \(arguments.joined(separator: " ")) → status \(status)\(signaled ? " (signal)" : "")\(timedOut ? " (timed out)" : ""); stderr: \(standardError.prefix(400))"
        }

        /// The error lines (non-empty lines of standard error).
        var errorLines: [String] { standardError.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty } }
    }

    /// Runs `backprop arguments…`, killing it after `timeout` seconds; `signal` is sent after
    /// `signalAfter` seconds when given.
    static func run(_ arguments: [String], timeout: Double = 120, signal: Int32? = nil, signalAfter: Double = 0) -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        // Output files named by relative paths (a fuzzed --save 0) land in the scratch folder.
        process.currentDirectoryURL = URL(fileURLWithPath: TinyData.root)
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        let collected = Collected()
        let readers = DispatchGroup()
        for (pipe, isError) in [(output, false), (error, true)] {
            readers.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.store(data, isError: isError)
                readers.leave()
            }
        }
        do {
            try process.run()
        } catch {
            return Result(arguments: arguments, status: -1, signaled: false, timedOut: false, standardOutput: "", standardError: "\(error)")
        }
        let start = Date()
        var sent = false
        var timedOut = false
        while process.isRunning {
            let elapsed = Date().timeIntervalSince(start)
            if let signal, !sent, elapsed >= signalAfter {
                kill(process.processIdentifier, signal)
                sent = true
            }
            if elapsed > timeout {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        readers.wait()
        return Result(
            arguments: arguments, status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
            timedOut: timedOut,
            standardOutput: collected.text(isError: false), standardError: collected.text(isError: true))
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var output = Data()
        private var error = Data()

        func store(_ data: Data, isError: Bool) {
            lock.lock()
            defer { lock.unlock() }
            if isError { error = data } else { output = data }
        }

        func text(isError: Bool) -> String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: isError ? error : output, as: UTF8.self)
        }
    }
}

/// Small data sets written to a temporary folder, in every format the CLI reads.
enum TinyData {
    static let root: String = {
        let path = NSTemporaryDirectory() + "backprop-tiny-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// 90 rows, 3 features, 3 well-separated named classes.
    static let classificationCSV: String = {
        var lines = ["f1,f2,f3,species"]
        var generator = RandomGenerator(seed: 11)
        for row in 0..<90 {
            let k = row % 3
            let features = (0..<3).map { feature in Float(feature == k ? 2 : 0) + generator.nextNormal() * 0.3 }
            lines.append(features.map { "\($0)" }.joined(separator: ",") + ",\(["setosa", "versicolor", "virginica"][k])")
        }
        return write(lines.joined(separator: "\n"), "classes.csv")
    }()

    /// 200 rows, y = 3a − 2b + 1 + small noise, in the column "y".
    static let regressionCSV: String = {
        var lines = ["a,b,y"]
        var generator = RandomGenerator(seed: 12)
        for _ in 0..<200 {
            let (a, b) = (generator.nextNormal(), generator.nextNormal())
            lines.append("\(a),\(b),\(3 * a - 2 * b + 1 + generator.nextNormal() * 0.05)")
        }
        return write(lines.joined(separator: "\n"), "regression.csv")
    }()

    /// A noisy sine (period ≈ 21 steps, noise σ 0.05) cut into windows: t0…t15, then the value
    /// to forecast, `next`. 400 rows.
    static let sineWindowsCSV: String = {
        var generator = RandomGenerator(seed: 13)
        let series = (0..<420).map { Float(sin(0.3 * Double($0))) + generator.nextNormal() * 0.05 }
        var lines = [((0..<16).map { "t\($0)" } + ["next"]).joined(separator: ",")]
        for start in 0..<400 { lines.append(series[start...(start + 16)].map { "\($0)" }.joined(separator: ",")) }
        return write(lines.joined(separator: "\n"), "sine.csv")
    }()

    /// 8×8 gray images in two class folders ("left" bright on the left, "right" on the right).
    static let imageFolder: String = {
        let folder = root + "/images"
        for (index, name) in ["left", "right"].enumerated() {
            try? FileManager.default.createDirectory(atPath: folder + "/" + name, withIntermediateDirectories: true)
            for sample in 0..<12 {
                let pixels = (0..<64).map { UInt8(($0 % 8 < 4) == (index == 0) ? 200 + sample : 10) }
                try? PNGImage(width: 8, height: 8, channels: 1, pixels: pixels).write(to: "\(folder)/\(name)/\(sample).png")
            }
        }
        return folder
    }()

    /// An .npz with x [40, 6, 6] images in [0, 1] and y [40] labels of 2 classes.
    static let imageArchive: String = {
        var generator = RandomGenerator(seed: 13)
        let labels = (0..<40).map { Float($0 % 2) }
        let values = labels.flatMap { label in (0..<36).map { _ in label * 0.6 + generator.nextUniform() * 0.4 } }
        let path = root + "/images.npz"
        try? NumPyArchive.write(
            ["x": NumPyArray(shape: [40, 6, 6], values: values), "y": NumPyArray(shape: [40], values: labels)], to: path)
        return path
    }()

    static func write(_ text: String, _ name: String) -> String {
        let path = root + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    static func write(_ data: Data, _ name: String) -> String {
        let path = root + "/" + name
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }
}
