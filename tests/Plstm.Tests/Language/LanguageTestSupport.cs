using Plstm.Models.Language;
using Plstm.Tests.Layers.OneD;

namespace Plstm.Tests.Language;

/// <summary>Small language models with non-saturated random weights, token helpers and a relative-error measure.</summary>
internal static class LanguageTestSupport
{
    /// <summary>D = 32, H = 2 (DK = 16, DV = 4, JT = JV = JO = 4), 2 blocks, conv kernel 4, chunks of 2^levels.</summary>
    public static PlstmLanguageModelConfig Tiny(int levels = 4, int blocks = 2) =>
        new() { Dim = 32, NumHeads = 2, NumBlocks = blocks, Levels = levels };

    /// <summary>
    /// Builds the tiny model in eval mode and randomises every pLSTM layer (<see cref="OneDTestSupport.Randomize"/>):
    /// the init values saturate the gates (σ(−5)), which would make state and convolution nearly invisible.
    /// </summary>
    public static PlstmLanguageModel RandomTiny(long seed, int levels = 4, int blocks = 2, bool float64 = false)
    {
        var model = new PlstmLanguageModel(Tiny(levels, blocks));
        Reseed(model, seed);
        if (float64) model.to(torch.float64);
        foreach (var (layer, i) in model.Layers.Select((l, i) => (l, i)))
            OneDTestSupport.Randomize(layer, seed * 100 + i);
        model.eval();
        return model;
    }

    /// <summary>
    /// Redraws every matrix parameter (rank ≥ 2) with SmallInit's std (fan = last axis) from a generator seeded with
    /// <paramref name="seed"/>: torch's global generator is shared by test classes running in parallel, so weights
    /// drawn from it after <c>manual_seed</c> are not reproducible. Vectors (norm scales, biases) keep their constant
    /// inits.
    /// </summary>
    public static void Reseed(nn.Module model, long seed)
    {
        var g = new Generator((ulong)seed + 1000);
        using var noGrad = no_grad();
        foreach (var (_, p) in model.named_parameters())
            if (p.dim() >= 2)
                p.copy_(randn(p.shape, dtype: p.dtype, generator: g) * Math.Sqrt(2.0 / (5.0 * p.shape[^1])));
    }

    /// <summary>Seeded random bytes <c>[B, T]</c>, int64.</summary>
    public static Tensor RandomTokens(long batch, long length, long seed) =>
        randint(0, 256, new[] { batch, length }, dtype: int64, generator: new Generator((ulong)seed));

    /// <summary><c>max|a − e| / max|e|</c>, in float64.</summary>
    public static double RelativeError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected.shape, actual.shape);
        var e = expected.to_type(float64);
        double scale = e.abs().max().item<double>();
        return (actual.to_type(float64) - e).abs().max().item<double>() / Math.Max(scale, 1e-30);
    }
}
