using System.CommandLine;
using Plstm.Cli.Diagnostics;
using TorchSharp;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm selfcheck [--device cuda]</c>: checks on this machine's GPU that the runtime-compiled CUDA kernel of the 2D
/// operator gives the row-scan form's output and gradients (<see cref="KernelSelfCheck"/>). Exits non-zero when a case
/// disagrees or the kernel cannot run (no CUDA device, driver or NVRTC).
/// </summary>
public sealed class SelfCheckCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var device = new Option<string>("--device")
        {
            Description = "CUDA device to check (cuda, cuda:N).",
            DefaultValueFactory = _ => "cuda",
        };
        var command = new Command("selfcheck",
            "Check that the CUDA kernel of the 2D operator equals the row-scan form (output and every gradient, float64 "
            + "and float32, awkward grids) on this machine's GPU.")
        {
            device,
        };
        command.SetAction(parseResult =>
        {
            var text = parseResult.GetValue(device)!;
            if (!text.StartsWith("cuda", StringComparison.Ordinal))
                throw new CliUsageException($"--device must be cuda or cuda:N (got '{text}'): the kernel runs on CUDA only.");
            if (!torch.cuda.is_available())
                throw new CliUsageException("--device cuda: no CUDA device is available on this machine.");
            var output = parseResult.InvocationConfiguration.Output;
            int failed = KernelSelfCheck.Run(torch.device(text), output);
            output.Flush();
            if (failed < 0) throw new InvalidOperationException("the CUDA kernel cannot run on this machine (see above)");
            if (failed > 0) throw new InvalidOperationException($"{failed} selfcheck case(s) disagree (see above)");
            return PlstmApp.Success;
        });
        return command;
    }
}
