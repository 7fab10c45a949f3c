using System.CommandLine;
using Plstm.Cli.Bench;
using Plstm.Cli.Diagnostics;
using TorchSharp;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm selfcheck [--device cuda|cpu] [--parts walk,single-path,…]</c>: checks on this machine's GPU that the runtime-compiled CUDA kernel of the
/// 2D operator gives the row-scan form's output and gradients, or with <c>--device cpu</c> the same for its CPU walk
/// (<see cref="KernelSelfCheck"/>). Exits non-zero when a case disagrees or the kernel cannot run (no CUDA device,
/// driver or NVRTC).
/// </summary>
public sealed class SelfCheckCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var device = new Option<string>("--device")
        {
            Description = "Device to check: cuda, cuda:N (the runtime-compiled kernel) or cpu (the C# walk).",
            DefaultValueFactory = _ => "cuda",
        };
        var parts = new Option<string?>("--parts")
        {
            Description = "Comma list of the parts to check (default all): " + string.Join(", ", KernelSelfCheck.Parts) + ".",
        };
        var command = new Command("selfcheck",
            "Check that the CUDA kernel of the 2D operator (or with --device cpu its CPU walk) equals the row-scan form "
            + "(output and every gradient, float64 and float32, awkward grids) on this machine.")
        {
            device,
            parts,
        };
        command.SetAction(parseResult =>
        {
            var text = parseResult.GetValue(device)!;
            bool cpu = text == "cpu";
            if (!cpu && !text.StartsWith("cuda", StringComparison.Ordinal))
                throw new CliUsageException($"--device must be cuda, cuda:N or cpu (got '{text}').");
            if (!cpu && !torch.cuda.is_available())
                throw new CliUsageException("--device cuda: no CUDA device is available on this machine.");
            // The bench verbs' list rule: trimmed entries, none empty (`walk,,layer` is a typo, not two parts).
            var chosen = parseResult.GetValue(parts) is { } list ? BenchLists.Entries("--parts", list) : null;
            if (KernelSelfCheck.UnknownPart(chosen) is { } problem) throw new CliUsageException($"--parts: {problem}.");
            var output = parseResult.InvocationConfiguration.Output;
            int failed = KernelSelfCheck.Run(torch.device(text), output, parts: chosen);
            output.Flush();
            if (failed < 0) throw new InvalidOperationException("the kernel cannot run on this machine (see above)");
            if (failed > 0) throw new InvalidOperationException($"{failed} selfcheck case(s) disagree (see above)");
            return PlstmApp.Success;
        });
        return command;
    }
}
