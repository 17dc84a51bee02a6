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

    /// A small saved model (a 3-class table) for the commands that read one, and its PyTorch weights.
    static let model: String = {
        let path = TinyData.root + "/fuzz-model.safetensors"
        _ = Tool.run([
            "train", "--quiet", "--data", TinyData.classificationCSV, "--hidden", "4", "--epochs", "1", "--save", path, "--checkpoint-dir",
            TinyData.root + "/fuzz-model-checkpoints",
        ])
        return path
    }()

    static let exported: String = {
        _ = Tool.run(["export", model, TinyData.root + "/fuzz-pytorch"])
        return TinyData.root + "/fuzz-pytorch/model.safetensors"
    }()

    /// The positional arguments of each command, fuzzed like options.
    static let positionals = ["export": ["MODEL", "FOLDER"], "import": ["WEIGHTS"]]
    /// finetune shares train's options; only those of transfer learning are fuzzed with --from.
    static let finetuneOptions: Set = [
        "--from", "--freeze-until", "--unfreeze-after", "--fine-tune-lr-scale", "--classes", "--only-classes", "--train-samples",
    ]

    static let extremes = ["0", "-1", "9223372036854775807", "1e30", "nan", "-inf", "", "1,,2", "abc", "1e-30", "\u{1}"]

    /// Arguments that make a valid run quick: tiny data, one epoch.
    static func base(for command: String, option: String, preview: String) -> [String] {
        let (model, exported) = (Self.model, Self.exported)
        switch command {
        case "train":
            var arguments = ["--quiet"]
            if option != "--data" && option != "--format" { arguments += ["--data", TinyData.classificationCSV] }
            if option != "--epochs" { arguments += ["--epochs", "1"] }
            if option != "--hidden" && option != "--model" { arguments += ["--hidden", "4"] }
            if option != "--batch-size" { arguments += ["--batch-size", "16"] }
            return arguments
        case "finetune":
            var arguments = ["--quiet", "--epochs", "1", "--batch-size", "16"]
            if option != "--data" { arguments += ["--data", TinyData.classificationCSV] }
            if option != "--from" { arguments += ["--from", model] }
            return arguments
        case "predict", "evaluate":
            var arguments: [String] = []
            if option != "--model" { arguments += ["--model", model] }
            if option != "--data" && option != "--format" { arguments += ["--data", TinyData.classificationCSV] }
            return arguments
        case "export":
            return (option == "MODEL" ? [] : [model]) + (option == "FOLDER" ? [] : [TinyData.root + "/fuzz-export"])
        case "import":
            var arguments = option == "WEIGHTS" ? [] : [exported]
            if option != "--like" && option != "--model-file" { arguments += ["--like", model] }
            if option != "--save" { arguments += ["--save", TinyData.root + "/fuzz-imported.safetensors"] }
            return arguments
        case "visualize":
            var arguments: [String] = []
            if option != "--model" { arguments += ["--model", model] }
            if option != "--data" && option != "--format" { arguments += ["--data", TinyData.classificationCSV] }
            if option != "--steps" { arguments += ["--steps", "2"] }
            if option != "--samples" { arguments += ["--samples", "2"] }
            if option != "--output" { arguments += ["--output", TinyData.root + "/fuzz-visualization"] }
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
        #expect(
            Self.commands.map(\.name).sorted() == [
                "augment", "evaluate", "export", "finetune", "import", "predict", "summary", "train", "visualize",
            ])
        #expect(Self.commands.allSatisfy { !$0.options.isEmpty })
        #expect((Self.commands.first { $0.name == "train" }?.options.count ?? 0) > 40)
    }

    @Test(arguments: ["train", "summary", "augment", "finetune", "predict", "evaluate", "export", "import", "visualize"])
    func extremeValuesNeverCrash(command: String) {
        var options = Self.commands.first { $0.name == command }?.options ?? []
        #expect(!options.isEmpty)
        if command == "finetune" { options = options.filter { Self.finetuneOptions.contains($0.name) } }
        let positionals = Self.positionals[command] ?? []
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
        for (position, label) in positionals.enumerated() {
            for value in Self.extremes {
                var arguments = [command] + Self.base(for: command, option: label, preview: preview)
                arguments.insert(value, at: 1 + position)
                invocations.append((label, value, arguments))
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
            let escaped = value.map {
                $0.unicodeScalars.map { $0.value < 0x20 ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
            }
            let named =
                line.lowercased().contains(option.lowercased()) || (value.map { !$0.isEmpty && line.contains($0) } ?? false)
                || line.contains(TinyData.root)
                || (escaped.map { !$0.isEmpty && line.contains($0) } ?? false)
                // A positional that looks like an option ("-1") leaves a later argument missing, and ArgumentParser says so.
                || (option.uppercased() == option && value?.hasPrefix("-") == true && line.contains("Missing expected argument"))
            #expect(named, "the message names neither \(option) nor its value nor the file: \(result)")
        }
        #expect(runs > 20)
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
