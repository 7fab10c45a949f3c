using Plstm.Cli;

return PlstmApp.Run(args, Console.Out, Console.Error);
