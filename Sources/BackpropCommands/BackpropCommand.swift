import ArgumentParser

/// The `backprop` command-line tool.
public struct BackpropCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Train and inspect neural networks with Backprop.",
        discussion: "Runs on the CPU through oneDNN. Fashion-MNIST from Debian's dataset-fashion-mnist is the default data.",
        subcommands: [TrainCommand.self, SummaryCommand.self, AugmentCommand.self])

    public init() {}
}
