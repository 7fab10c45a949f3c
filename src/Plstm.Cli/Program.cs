using Plstm.Cli;
using Plstm.Training;

// Keep libtorch's large CPU buffers on the heap between steps instead of mmap/munmap per allocation (HostAllocator).
HostAllocator.TuneForTraining();

// Live progress bars only when the output is a terminal; plain lines when it is redirected (logs, CI, pipes).
return PlstmApp.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected);
