import Foundation
import Synchronization
import Testing

/// Every option of every command, driven with extreme values through the real executable: a
/// failure is one line on standard error naming the option (or the file), never a signal.
@Suite(.serialized)
struct CommandFuzzTests {
    /// The options of each subcommand, as the tool itself describes them.
    static let commands: [(name: String, options: [(name: String, isFlag: Bool)])] = {
        let result = Tool.run(["--experimental-dump-help"])
        guard let json = try? JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any],
            let command = json["command"] as? [String: Any], let subcommands = command["subcommands"] as? [[String: Any]]
        else { return [] }
        return subcommands.compactMap { subcommand in
            guard let name = subcommand["commandName"] as? String, name != "help" else { return nil }
            let arguments = subcommand["arguments"] as? [[String: Any]] ?? []
            let options = arguments.compactMap { argument -> (String, Bool)? in
                guard let kind = argument["kind"] as? String, kind != "positional",
                    let names = argument["names"] as? [[String: Any]], let long = names.first(where: { $0["kind"] as? String == "long" }),
                    let option = long["name"] as? String, option != "help"
                else { return nil }
                return ("--" + option, kind == "flag")
            }
            return (name, options)
        }
    }()

    static let extremes = ["0", "-1", "9223372036854775807", "1e30", "nan", "-inf", "", "1,,2", "abc", "1e-30", "\u{1}"]

    /// Arguments that make a valid run quick: tiny data, one epoch.
    static func base(for command: String, option: String, preview: String) -> [String] {
        switch command {
        case "train":
            var arguments = ["--quiet"]
            if option != "--data" && option != "--format" { arguments += ["--data", TinyData.classificationCSV] }
            if option != "--epochs" { arguments += ["--epochs", "1"] }
            if option != "--hidden" && option != "--model" { arguments += ["--hidden", "4"] }
            if option != "--batch-size" { arguments += ["--batch-size", "16"] }
            return arguments
        case "augment":
            var arguments: [String] = []
            if option != "--preview" { arguments += ["--preview", preview] }
            if option != "--data" { arguments += ["--data", TinyData.imageFolder] }
            return arguments
        default:
            return []
        }
    }

    @Test func theToolDescribesItsCommands() {
        #expect(Self.commands.map(\.name).sorted() == ["augment", "summary", "train"])
        #expect(Self.commands.allSatisfy { $0.options.count > 5 })
    }

    @Test(arguments: ["train", "summary", "augment"])
    func extremeValuesNeverCrash(command: String) {
        let options = Self.commands.first { $0.name == command }?.options ?? []
        #expect(!options.isEmpty)
        let preview = TinyData.root + "/preview-\(command).png"
        var invocations: [(option: String, value: String?, arguments: [String])] = []
        for (option, isFlag) in options {
            for value in isFlag ? [nil] : Self.extremes.map(Optional.some) {
                invocations.append(
                    (
                        option, value,
                        [command] + Self.base(for: command, option: option, preview: preview) + [option] + (value.map { [$0] } ?? [])
                    ))
            }
        }
        let planned = invocations
        // Three processes at a time: most of each run is process start-up and reading files.
        let results = Mutex<[Tool.Result?]>(Array(repeating: nil, count: invocations.count))
        DispatchQueue.concurrentPerform(iterations: 3) { worker in
            for index in stride(from: worker, to: planned.count, by: 3) {
                let result = Tool.run(planned[index].arguments, timeout: 60)
                results.withLock { $0[index] = result }
            }
        }
        let runs = invocations.count
        for (invocation, result) in zip(invocations, results.withLock { $0 }) {
            guard let result else { continue }
            let (option, value) = (invocation.option, invocation.value)
            #expect(!result.signaled && !result.timedOut, "\(result)")
            guard result.status != 0 else { continue }
            #expect(result.errorLines.count == 1, "not one line: \(result)")
            let line = result.errorLines.first ?? ""
            #expect(line.hasPrefix("Error: "), "\(result)")
            let named = line.contains(option) || (value.map { !$0.isEmpty && line.contains($0) } ?? false) || line.contains(TinyData.root)
            #expect(named, "the message names neither \(option) nor its value nor the file: \(result)")
        }
        #expect(runs > 40)
    }

    /// The same option twice, and options in odd places.
    @Test func duplicatesAndStrayArguments() {
        for arguments in [
            ["train", "--epochs", "1", "--epochs", "0", "--data", TinyData.classificationCSV],
            ["train", "stray", "--data", TinyData.classificationCSV],
            ["train", "--hidden"],
            ["nonsense"],
            ["summary", "--model", "cnn", "--input-shape", "28,28"],
            ["summary", "--model", "vgg", "--input-shape", "65536,65536,3"],
            ["summary", "--input-shape", "100000000,100000000"],
            ["summary", "--model", "cnn", "--width", "nan"],
            ["summary", "--model", "cnn", "--width", "-1"],
        ] {
            let result = Tool.run(arguments)
            #expect(!result.signaled && result.status != 0 && result.errorLines.count == 1, "\(result)")
        }
    }
}
