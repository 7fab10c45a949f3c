using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The fused four-orientation 2D operator (README §"Four orientations"): Y = Σ_o flip_o(scan(flip_o(Q, K, V),
/// flip_o(gates of o), D = 0)) + the direct term once. flip_0 = none, flip_1 = reverse x, flip_2 = reverse y,
/// flip_3 = both. The four scans run as one call with the orientations stacked on the batch axis; the chunkwise form
/// on a grid its chunks tile exactly also sums the four flipped-back in-chunk gates into one masked attention.
/// Any grid size (the reference's fused kernel needs one square chunk; this one does not, clarification 3).
/// </summary>
public static class Plstm2DFused
{
    /// <summary>Axes (of a <c>[B, X, Y, …]</c> tensor) reversed by each orientation.</summary>
    public static long[] FlipAxes(int orientation) => orientation switch
    {
        0 => Array.Empty<long>(),
        1 => new long[] { 1 },
        2 => new long[] { 2 },
        3 => new long[] { 1, 2 },
        _ => throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "orientation must be 0..3"),
    };

    /// <summary>
    /// Runs the fused operator. <paramref name="scale"/> defaults to DK^(-1/2). <paramref name="form"/> picks the exact
    /// form (<see cref="Plstm2DForm.Auto"/>: <see cref="Plstm2DAutoForm.Choose"/>); <paramref name="levels"/> only matters
    /// for <see cref="Plstm2DForm.Hierarchical"/> and <paramref name="chunkSide"/> (default
    /// <see cref="Plstm2DAutoForm.ChunkSide"/>) only for <see cref="Plstm2DForm.Chunkwise"/>, and <paramref name="recomputeInBackward"/>
    /// (see <see cref="Plstm2DChunkwise.Forward"/>) for <see cref="Plstm2DForm.Chunkwise"/>, <see cref="Plstm2DForm.RowScan"/>
    /// and <see cref="Plstm2DForm.Kernel"/> (there: <see cref="WalkedGateAttention"/>); none changes the result.
    /// </summary>
    /// <exception cref="ArgumentException">Malformed inputs, levels outside 0..16, or a chunk side &lt; 1.</exception>
    public static Tensor Forward(Plstm2DFusedInputs inputs, int levels = 6, double? scale = null,
        Plstm2DForm form = Plstm2DForm.Auto, int? chunkSide = null, bool recomputeInBackward = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        OperatorMath.CheckLevels(levels);
        var dims = inputs.Validate();
        using var scope = NewDisposeScope();
        double c = scale ?? OperatorMath.DefaultScale(dims["DK"]);
        long B = dims["B"], X = dims["X"], Y = dims["Y"];
        bool scalarGates = dims["JT"] == 1 && dims["JK"] == 1 && dims["JV"] == 1 && dims["JQ"] == 1 && dims["JO"] == 1;
        var device = inputs.Q.device.type;
        var resolved = Plstm2DAutoForm.Resolve(form, scalarGates, X, Y, device);
        int side = chunkSide ?? Plstm2DAutoForm.ChunkSide(X, Y, device);
        if (resolved == Plstm2DForm.Chunkwise && side < 1)
            throw new ArgumentOutOfRangeException(nameof(chunkSide), side, "the chunk side must be at least 1");

        if ((resolved is Plstm2DForm.RowScan or Plstm2DForm.Kernel) && scalarGates)
            return RowScanOneAttention(inputs, c, recomputeInBackward, kernel: resolved == Plstm2DForm.Kernel)
                .MoveToOuterDisposeScope();

        Tensor Shared(Tensor t) => cat(Enumerable.Range(0, 4).Select(o => Flip(t, o)).ToArray(), 0);
        Tensor PerOrientation(Tensor t) => cat(Enumerable.Range(0, 4).Select(o => Flip(t.select(1, o), o)).ToArray(), 0);
        Tensor? PerOrientationOpt(Tensor? t) => t is null ? null : PerOrientation(t);

        var scanInputs = new Plstm2DInputs(
            Shared(inputs.Q), Shared(inputs.K), Shared(inputs.V),
            PerOrientation(inputs.S0r), PerOrientation(inputs.S0d),
            PerOrientation(inputs.T0rl), PerOrientation(inputs.T0du),
            PerOrientationOpt(inputs.T0dl), PerOrientationOpt(inputs.T0ru),
            PerOrientation(inputs.M0l), PerOrientation(inputs.M0u),
            zeros(new[] { 4 * B }.Concat(inputs.D0.shape.Skip(1)).ToArray(), dtype: inputs.D0.dtype, device: inputs.D0.device));

        if (resolved == Plstm2DForm.Chunkwise && scalarGates && ChunkPartition.Of(X, Y, side) is { IsExact: true } part)
            return ChunkwiseOneAttention(inputs, scanInputs, part, c, recomputeInBackward).MoveToOuterDisposeScope();

        var scanned = resolved switch
        {
            Plstm2DForm.Naive => Plstm2DNaive.Forward(scanInputs, c).Y,
            Plstm2DForm.Hierarchical => Plstm2DHierarchical.Output(scanInputs, levels, c),
            Plstm2DForm.Chunkwise => Plstm2DChunkwise.Output(scanInputs, side, c, recomputeInBackward),
            Plstm2DForm.RowScan or Plstm2DForm.Kernel => Plstm2DRowScan.Output(scanInputs, c, recomputeInBackward),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, "unknown form"),
        };                                                                                   // [4B, X, Y, DV, JO]
        var y = DirectTerm(inputs.Q, inputs.K, inputs.V, inputs.D0, c);                     // [B, X, Y, DV, JO]
        for (int o = 0; o < 4; o++)
            y = y + Flip(scanned.narrow(0, o * B, B), o);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Chunkwise fused form when the chunks tile the grid exactly (no padding), so that flipping the grid maps chunks onto
    /// chunks: each orientation's in-chunk gate 𝒢 is flipped back (chunk index, target and source offsets) and the four are
    /// summed with D0 on the diagonal into ONE gate, so one masked attention serves all orientations (operators §3.6). The
    /// reads of entering border states (several chunks) stay per orientation, flipped back and summed.
    /// </summary>
    private static Tensor ChunkwiseOneAttention(Plstm2DFusedInputs inputs, Plstm2DInputs scanInputs, ChunkPartition part,
        double scale, bool recompute)
    {
        using var scope = NewDisposeScope();
        long B = inputs.Q.shape[0], cells = part.Cells, N = B * part.Chunks;
        var parts = Plstm2DChunkwise.Scan(scanInputs, part, finalStates: false, recompute);
        var gates = parts.Gate.view(4, B, part.NX, part.NY, part.Px, part.Py, part.Px, part.Py);
        Tensor? gate = null;                                                                 // [B, NX, NY, Px, Py, Px, Py]
        for (int o = 0; o < 4; o++)
        {
            // Flipping x reverses the chunk column, the target's and the source's x-offsets (axes 1, 3, 5); y likewise.
            var axes = FlipAxes(o).SelectMany(a => a == 1 ? new long[] { 1, 3, 5 } : new long[] { 2, 4, 6 }).ToArray();
            var back = axes.Length == 0 ? gates[o] : gates[o].flip(axes);
            gate = gate is null ? back : gate + back;
        }

        Tensor Chunked(Tensor t, long width) => ChunkwiseParts.ToChunks(t, part).reshape(N, cells, width);
        long DK = inputs.Q.shape[3], DV = inputs.V.shape[3];
        var direct = Chunked(Plstm2DChunkwise.ScalarGrid(inputs.D0).unsqueeze(-1), 1).squeeze(-1);        // [N, cells]
        var y = ChunkwiseParts.Attention(Chunked(inputs.Q.squeeze(-1), DK), Chunked(inputs.K.squeeze(-1), DK),
            Chunked(inputs.V.squeeze(-1), DV), gate!.reshape(N, cells, cells), direct);                    // [N, cells, DV]
        var grid = ChunkwiseParts.FromChunks(y, part, B);                                                  // [B, X, Y, DV]
        if (parts.BorderRead is not null)
        {
            var reads = ChunkwiseParts.FromChunks(parts.BorderRead, part, 4 * B);                          // [4B, X, Y, DV]
            for (int o = 0; o < 4; o++)
                grid = grid + Flip(reads.narrow(0, o * B, B), o);
        }
        return (grid * scale).unsqueeze(-1).MoveToOuterDisposeScope();                                    // [B, X, Y, DV, 1]
    }

    /// <summary>
    /// Row-scan fused form: the four orientations' whole-grid gates from one row scan (orientations stacked on the batch),
    /// each flipped back (target and source cells) and summed into ONE gate, then one masked attention for all
    /// orientations (operators §3.6) plus the direct term. Only the scalar gates are flipped (stacked into one tensor
    /// first, so the flips are four kernels, not four per gate); Q, K, V stay in place. With <paramref name="kernel"/>
    /// and where <see cref="FusedGateKernel.CanRun(Tensor)"/> (CUDA) or <see cref="FusedGateCpuKernel.CanRun(Tensor)"/> (CPU), the summed
    /// gate comes from that walk instead (no flips: it walks each orientation's scan order on the original grid), the
    /// walk and the masked attention running as one function, <see cref="WalkedGateAttention"/> (with
    /// <paramref name="recompute"/>: nothing cells²-sized kept for backward). Inputs with one turn gate at most (T0dl or
    /// T0ru null: a D-mode layer's wiring) have one path between two cells: on CUDA their gate is formed in closed form
    /// (<see cref="SinglePathGateKernel"/>) where it takes the grid.
    /// </summary>
    private static Tensor RowScanOneAttention(Plstm2DFusedInputs inputs, double scale, bool recompute, bool kernel)
    {
        using var scope = NewDisposeScope();
        long B = inputs.Q.shape[0], X = inputs.Q.shape[1], Y = inputs.Q.shape[2];
        var all = new[] { inputs.S0r, inputs.S0d, inputs.T0rl, inputs.T0du, inputs.T0dl, inputs.T0ru, inputs.M0l, inputs.M0u };
        if (kernel && inputs.S0r.device_type is DeviceType.CUDA or DeviceType.CPU)
        {
            var reference = inputs.S0r.reshape(B, 4, X, Y);
            var stackedGates = stack(all.Select(t => t is null ? zeros_like(reference) : t.reshape(B, 4, X, Y)).ToArray(), 2);
            // The kernels compute in float32 or float64; half-precision inputs are walked and attended in float32 and the
            // output rounded back (the walk's sums over hundreds of paths and the attention's rows over hundreds of cells
            // are where half precision loses most, and the float32 kernels are the fast ones), the masked attention
            // kernel with TF32 products (q, k and v from half precision are exact in TF32).
            var dtype = stackedGates.dtype;
            bool half = dtype is ScalarType.BFloat16 or ScalarType.Float16;
            Tensor Mixed(Tensor t) => half ? t.to_type(ScalarType.Float32) : t;
            var walked = Mixed(stackedGates);                                                 // [B, 4, 8, X, Y]
            // The walks put D0 on the gate's diagonal and fold the scale in, so the masked attention alone is the output
            // (no per-cell direct term: about fifteen fewer kernels per layer, forward and backward).
            var direct = Plstm2DChunkwise.ScalarGrid(inputs.D0).reshape(B, X * Y).to(walked.dtype);  // [B, cells]
            if (WalkedGateAttention.CanWalk(walked))
            {
                // The walk and the masked attention as one function (nothing cells²-sized crosses its boundary; with
                // recomputation nothing cells²-sized is kept for backward either).
                long cells = X * Y, DK = inputs.Q.shape[3], DV = inputs.V.shape[3];
                var y = WalkedGateAttention.Attend(Mixed(inputs.Q).reshape(B, cells, DK), Mixed(inputs.K).reshape(B, cells, DK),
                    Mixed(inputs.V).reshape(B, cells, DV), walked, direct, scale, recompute, Wiring(inputs),
                    half ? MaskedAttentionPrecision.Tf32 : null);                                   // [B, cells, DV]
                var output = y.view(B, X, Y, DV, 1);                                         // [B, X, Y, DV, 1]
                return (half ? output.to_type(dtype) : output).MoveToOuterDisposeScope();
            }
        }
        var gate = SummedRowScanGate(all, B, X, Y, recompute);
        return Plstm2DRowScan.Attend(inputs.Q, inputs.K, inputs.V, gate, inputs.D0, scale)
            .MoveToOuterDisposeScope();                                                      // [B, X, Y, DV, 1]
    }

    /// <summary>Which turn gates the inputs have: without T0ru (or without both turns) the D-mode wiring of chirality R,
    /// without T0dl that of chirality L — one turn at most, so the kernel form may form the gate in closed form — else P
    /// (any paths: walked).</summary>
    private static GateActivationMode Wiring(Plstm2DFusedInputs inputs) => (inputs.T0dl, inputs.T0ru) switch
    {
        (_, null) => GateActivationMode.DRight,
        (null, _) => GateActivationMode.DLeft,
        _ => GateActivationMode.P,
    };

    /// <summary>Σ_o of the orientations' row-scan gates flipped back, <c>[B, cells, cells]</c> without D0, from the gates
    /// S0r, S0d, T0rl, T0du, T0dl, T0ru, M0l, M0u (each <c>[B, 4, X, Y, …]</c> with every J = 1; T0dl and T0ru may be
    /// null). The quantity <see cref="FusedGateKernel"/> computes directly.</summary>
    internal static Tensor SummedRowScanGate(Tensor?[] gates, long B, long X, long Y, bool recompute)
    {
        using var scope = NewDisposeScope();
        long cells = X * Y;
        var present = gates.Where(t => t is not null).Select(t => t!.reshape(B, 4, X, Y)).ToArray();
        var stacked = stack(present, -1);                                                    // [B, 4, X, Y, gates]
        var oriented = cat(Enumerable.Range(0, 4).Select(o => Flip(stacked.select(1, o), o)).ToArray(), 0)
            .unbind(-1);                                                                     // gates × [4B, X, Y]
        int i = 0;
        Tensor Next() => oriented[i++];
        var (sr, sd, trl, tdu) = (Next(), Next(), Next(), Next());
        var tdl = gates[4] is null ? null : Next();
        var tru = gates[5] is null ? null : Next();
        var (ml, mu) = (Next(), Next());
        var all = Plstm2DRowScan.Gate(sr, sd, trl, tdu, tdl, tru, ml, mu, recompute).view(4, B, X, Y, X, Y);
        // unbind, not all[o]: the backward of one unbind is one stack, that of four selects four zero-filled
        // gate-sized tensors summed.
        var perOrientation = all.unbind(0);
        Tensor? gate = null;                                                                 // [B, X, Y, X, Y]
        for (int o = 0; o < 4; o++)
        {
            // Flipping x reverses the target's and the source's x (axes 1, 3 of [B, X, Y, X, Y]); y likewise (2, 4).
            var axes = FlipAxes(o).SelectMany(a => a == 1 ? new long[] { 1, 3 } : new long[] { 2, 4 }).ToArray();
            var back = axes.Length == 0 ? perOrientation[o] : perOrientation[o].flip(axes);
            gate = gate is null ? back : gate + back;
        }
        return gate!.reshape(B, cells, cells).MoveToOuterDisposeScope();
    }

    /// <summary>scale · Q D0 K V at every cell: the node's own contribution, <c>[B, X, Y, DV, JO]</c>.</summary>
    public static Tensor DirectTerm(Tensor Q, Tensor K, Tensor V, Tensor D0, double scale)
    {
        using var scope = NewDisposeScope();
        var qk = einsum("bxydq,bxydk->bxyqk", Q, K);                                         // [B, X, Y, JQ, JK]
        var w = einsum("bxyqk,bxyoqkl->bxyol", qk, D0);                                      // [B, X, Y, JO, JV]
        return (einsum("bxyol,bxyvl->bxyvo", w, V) * scale).MoveToOuterDisposeScope();
    }

    /// <summary>Applies orientation <paramref name="orientation"/>'s flip to a <c>[B, X, Y, …]</c> tensor (its own inverse).</summary>
    public static Tensor Flip(Tensor t, int orientation)
    {
        var axes = FlipAxes(orientation);
        return axes.Length == 0 ? t : t.flip(axes);
    }
}
