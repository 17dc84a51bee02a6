import BackpropCommands
BackpropCommand.main()
