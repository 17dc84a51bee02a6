import BackpropCommands

BackpropCommand.main()
