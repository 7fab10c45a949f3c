using Plstm.Cli;

// Live progress bars only when the output is a terminal; plain lines when it is redirected (logs, CI, pipes).
return PlstmApp.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected);
