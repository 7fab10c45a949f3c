using Plstm.Ops.TwoD;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Bench;

/// <summary>The 2D forms being compared.</summary>
public enum Form
{
    /// <summary><see cref="Plstm2DNaive"/>: cell-by-cell recurrence.</summary>
    Naive,

    /// <summary><see cref="Plstm2DHierarchical"/>: log-depth meta-cell merge plus chunk wavefront.</summary>
    Hierarchical,

    /// <summary><see cref="Plstm2DChunkwise"/>: anti-diagonal path-sum wavefront per chunk, masked attention, chunk
    /// wavefront.</summary>
    Chunkwise,
}

/// <summary>
/// One benchmark problem: a square grid of P-mode gated inputs, float32 on the CPU, B = 8 (B·H = 8), DK = DV = 32 and
/// every J = 1. The leaf tensors are generated once; every run detaches fresh leaves that require grad, runs the
/// forward and <c>Y.sum().backward()</c> inside a dispose scope, so nothing (graph, gradients) survives a run.
/// </summary>
public sealed class Workload : IDisposable
{
    /// <summary>Batch size (batch × heads).</summary>
    public const long Batch = 8;

    /// <summary>Key/query head dimension.</summary>
    public const long DK = 32;

    /// <summary>Value head dimension.</summary>
    public const long DV = 32;

    /// <summary>
    /// Chunk side 2^Levels of the hierarchical form, per grid: the fastest measured on this machine (2 cores, float32,
    /// forward + backward): one 16×16 chunk on the 16×16 grid; 4×4 chunks of 8×8 on the 32×32 grid (a 32×32 single
    /// chunk is slower: its in-chunk gate grows as P⁴). The result does not depend on it.
    /// </summary>
    public int Levels => Grid <= 16 ? 4 : 3;

    /// <summary>Chunk side of the chunkwise form (default: <see cref="Plstm2DAutoForm.ChunkSide"/> on the CPU, one chunk
    /// up to 16×16, chunks of 8 beyond). The result does not depend on it.</summary>
    public int ChunkSide
    {
        get => _chunkSide ?? Plstm2DAutoForm.ChunkSide(Grid, Grid, DeviceType.CPU);
        init => _chunkSide = value;
    }

    private readonly int? _chunkSide;

    private readonly Tensor[] _leaves;

    /// <summary>Creates the inputs of a <paramref name="grid"/>×<paramref name="grid"/> problem.</summary>
    public Workload(int grid, long seed = 1234)
    {
        Grid = grid;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator((ulong)seed);
        long x = grid, y = grid;
        Tensor Normal(params long[] shape) => randn(shape, dtype: float32, generator: generator);
        Tensor Unit(params long[] shape) => sigmoid(Normal(shape));   // values in (0, 1)

        // P-mode: out of every incoming edge the transitions sum to o·t + (1 − o·t) = 1, so states stay bounded.
        var o = Unit(Batch, x, y, 1, 1);
        var s = Unit(Batch, x, y, 1, 1);
        var t = Unit(Batch, x, y, 1, 1);
        var m = Unit(Batch, x, y, 1, 1, 1);
        var straightRight = o * t;            // T0rl = T0ru
        var straightDown = 1 - o * t;         // T0du = T0dl
        var sourceRight = (o * s).unsqueeze(-1);
        var sourceDown = (1 - o * s).unsqueeze(-1);
        _leaves =
        [
            Normal(Batch, x, y, DK, 1),                   // Q
            Normal(Batch, x, y, DK, 1),                   // K
            Normal(Batch, x, y, DV, 1),                   // V
            sourceRight,                                  // S0r [B,X,Y,JT,JK,JV]
            sourceDown,                                   // S0d
            straightRight.clone(),                        // T0rl [B,X,Y,JT,JT]
            straightDown.clone(),                         // T0du
            straightDown.clone(),                         // T0dl
            straightRight.clone(),                        // T0ru
            m.clone(),                                    // M0l [B,X,Y,JO,JQ,JT]
            m.clone(),                                    // M0u
            Unit(Batch, x, y, 1, 1, 1, 1),                // D0 [B,X,Y,JO,JQ,JK,JV]
        ];
        foreach (var leaf in _leaves)
            leaf.MoveToOuterDisposeScope();
    }

    /// <summary>Grid side (the grid is Grid×Grid cells).</summary>
    public int Grid { get; }

    /// <summary>
    /// Builds operator inputs from fresh leaves that require grad. The returned tensors belong to the caller's
    /// dispose scope.
    /// </summary>
    public Plstm2DInputs FreshInputs()
    {
        var l = _leaves.Select(t => t.detach().requires_grad_(true)).ToArray();
        return new Plstm2DInputs(l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8], l[9], l[10], l[11]);
    }

    /// <summary>Runs the given form's forward on <paramref name="inputs"/> and returns the output Y (every form computes
    /// only what Y needs: the naive recurrence has no other way; the parallel forms skip unread border work).</summary>
    public Tensor Forward(Form form, Plstm2DInputs inputs) => form switch
    {
        Form.Naive => Plstm2DNaive.Forward(inputs).Y,
        Form.Hierarchical => Plstm2DHierarchical.Output(inputs, Levels),
        Form.Chunkwise => Plstm2DChunkwise.Output(inputs, ChunkSide),
        _ => throw new ArgumentOutOfRangeException(nameof(form), form, null),
    };

    /// <summary>One timed operation: forward, then <c>Y.sum().backward()</c>; returns Y's sum.</summary>
    public double ForwardBackward(Form form)
    {
        using var scope = NewDisposeScope();
        var output = Forward(form, FreshInputs());
        var loss = output.sum();
        loss.backward();
        return loss.item<float>();
    }

    /// <summary>The forward alone, without autograd (<c>no_grad</c>); returns Y's sum.</summary>
    public double ForwardOnly(Form form)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Forward(form, FreshInputs()).sum().item<float>();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var leaf in _leaves)
            leaf.Dispose();
    }
}
