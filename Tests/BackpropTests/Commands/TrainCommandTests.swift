import ArgumentParser
import BackpropCommands
import Foundation
import Testing

struct TrainCommandTests {
    @Test func helpDocumentsEveryOption() {
        let help = BackpropCommand.helpMessage(for: TrainCommand.self)
        for option in ["--model", "--hidden", "--epochs", "--batch-size", "--optimizer", "--lr", "--momentum", "--dropout",
                       "--validation-split", "--seed", "--data", "--quiet"] {
            #expect(help.contains(option), "help lacks \(option)")
        }
        #expect(BackpropCommand.helpMessage().contains("train"))
    }

    @Test func badOptionValuesAreRejectedWithTheirName() throws {
        for (arguments, fragment) in [(["train", "--epochs", "0"], "--epochs"), (["train", "--hidden", "512,x"], "--hidden"),
                                      (["train", "--lr", "-1"], "--lr")] {
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
