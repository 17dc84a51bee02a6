import ArgumentParser
import Backprop
import Foundation

/// The `backprop` command-line tool.
public struct BackpropCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Train and inspect neural networks with Backprop.",
        discussion: "Runs on the CPU through oneDNN. Fashion-MNIST from Debian's dataset-fashion-mnist is the default data.",
        subcommands: [
            TrainCommand.self, FinetuneCommand.self, PredictCommand.self, EvaluateCommand.self, ExportCommand.self, ImportCommand.self,
            SummaryCommand.self, AugmentCommand.self, VisualizeCommand.self,
        ])

    public init() {}

    /// Runs the tool as a process: parses `arguments`, runs the command and exits. Help goes to
    /// standard output; every failure is one line on standard error, `Error: …`, with a non-zero
    /// status (2 for a bad option, 1 for bad data, 128 + n after signal n).
    public static func runAsTool(_ arguments: [String]? = nil) -> Never {
        Interruption.installHandlers()
        Invocation.arguments = arguments ?? Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch {
            let (text, status) = report(for: error)
            if status == 0 {
                print(text)
            } else {
                FileHandle.standardError.write(Data((text + "\n").utf8))
            }
            Foundation.exit(status)
        }
    }

    /// The one-line message and exit status for `error` (help text and 0 for a help request).
    public static func report(for error: Error) -> (message: String, status: Int32) {
        if let failure = error as? RunFailure { return ("Error: " + failure.description, failure.exitCode) }
        if let error = error as? BackpropError { return ("Error: " + oneLine("\(error)"), 1) }
        let code = exitCode(for: error)
        if code == .success { return (fullMessage(for: error), 0) }
        let message = message(for: error)
        return ("Error: " + oneLine(message.isEmpty ? "\(error)" : message), code == .failure ? 1 : code.rawValue)
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(
            separator: " ")
    }
}

/// The arguments the tool was started with (after the program name), which a run stores so it
/// can be resumed with the same options.
enum Invocation {
    nonisolated(unsafe) static var arguments: [String] = Array(CommandLine.arguments.dropFirst())

    /// The arguments after the subcommand's name.
    static func arguments(after command: String) -> [String] {
        guard let index = arguments.firstIndex(of: command) else { return arguments }
        return Array(arguments[(index + 1)...])
    }
}
