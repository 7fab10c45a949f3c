using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>
/// Guards the benchmark: before anything is timed, each parallel form (hierarchical, chunkwise) must reproduce the naive
/// one on the very inputs being benchmarked (outputs, final border states and every input gradient).
/// </summary>
public static class ParityCheck
{
    /// <summary>Largest allowed absolute difference of outputs and final states (float32).</summary>
    public const double OutputTolerance = 1e-3;

    /// <summary>Largest allowed difference of gradients, relative to the largest gradient entry (at least 1).</summary>
    public const double GradientTolerance = 1e-3;

    /// <summary>Compares <paramref name="form"/> (hierarchical or chunkwise) with the naive form on
    /// <paramref name="workload"/>; returns a one-line report or throws.</summary>
    /// <exception cref="InvalidOperationException">The forms disagree.</exception>
    public static string Verify(Workload workload, Form form)
    {
        using var scope = NewDisposeScope();
        var naiveInputs = workload.FreshInputs();
        var fastInputs = workload.FreshInputs();
        var naive = Plstm.Ops.TwoD.Plstm2DNaive.Forward(naiveInputs);
        var fast = form switch
        {
            Form.Hierarchical => Plstm.Ops.TwoD.Plstm2DHierarchical.Forward(fastInputs, workload.Levels),
            Form.Chunkwise => Plstm.Ops.TwoD.Plstm2DChunkwise.Forward(fastInputs, workload.ChunkSide),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, "not a parallel form"),
        };
        naive.Y.sum().backward();
        fast.Y.sum().backward();
        // The timed entry point (output only) must give the same Y.
        using var noGrad = no_grad();
        var timed = workload.Forward(form, workload.FreshInputs());

        double outputDiff = new[]
        {
            MaxAbs(naive.Y - fast.Y),
            MaxAbs(naive.Y - timed),
            MaxAbs(naive.FinalRight - fast.FinalRight),
            MaxAbs(naive.FinalBottom - fast.FinalBottom),
        }.Max();
        var pairs = Leaves(naiveInputs).Zip(Leaves(fastInputs));
        double gradDiff = 0, gradScale = 1;
        foreach (var (n, f) in pairs)
        {
            var gn = n.grad ?? throw new InvalidOperationException("naive form produced no gradient");
            var gf = f.grad ?? throw new InvalidOperationException($"{form} form produced no gradient");
            gradDiff = Math.Max(gradDiff, MaxAbs(gn - gf));
            gradScale = Math.Max(gradScale, MaxAbs(gn));
        }

        var report = $"{workload.Grid}x{workload.Grid} {form}: max |Y_naive - Y_{form}| = {outputDiff:G3} (|Y| <= {MaxAbs(naive.Y):F2}), "
            + $"max gradient difference = {gradDiff:G3} (largest gradient {gradScale:F2})";
        if (!(outputDiff < OutputTolerance) || !(gradDiff < GradientTolerance * gradScale))
            throw new InvalidOperationException($"parity check failed, {form} != naive: {report}");
        return report;
    }

    private static IEnumerable<Tensor> Leaves(Plstm.Ops.TwoD.Plstm2DInputs i) =>
        [i.Q, i.K, i.V, i.S0r, i.S0d, i.T0rl, i.T0du, i.T0dl!, i.T0ru!, i.M0l, i.M0u, i.D0];

    private static double MaxAbs(Tensor t) => t.abs().max().item<float>();
}
