import BackpropCommands

BackpropCommand.runAsTool()
