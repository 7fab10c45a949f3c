using Plstm.Ops.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// Chunkwise 2D form for scalar gates (README §"Chunkwise form"): the grid is cut into chunks of at most P × P cells;
/// inside every chunk the path sums 𝒢, ℳ, 𝒮, 𝒯 come from one wavefront dynamic program over the chunk's
/// anti-diagonals (<see cref="ChunkPathSums"/>, all chunks and all sources at once), the in-chunk output is masked linear
/// attention (Q Kᵀ ⊙ 𝒢) V, and chunk border states travel along anti-diagonals of chunks
/// (<see cref="ChunkBorderWavefront"/>). Work is linear in the number of cells (P⁴ per chunk of P² cells) and the op
/// count is O(P + NX + NY), independent of the number of cells: made for accelerators, where per-op launch cost
/// dominates the hierarchical form.
/// Must equal <see cref="Plstm2DNaive"/>: outputs, final border states and every gradient (autograd through this
/// forward), checked by the tests on random inputs.
/// </summary>
/// <remarks>
/// Only all-J = 1 inputs (every vision model) take this path. Inputs with any J &gt; 1 fall back to
/// <see cref="Plstm2DHierarchical"/> with chunk side 2^⌈log2 P⌉ (same result: every exact form agrees).
/// </remarks>
public static class Plstm2DChunkwise
{
    /// <summary>Chunk side used when none is given: one chunk up to 16 × 16. <see cref="Plstm2DAutoForm.ChunkSide"/>
    /// chooses per grid and device.</summary>
    public const int DefaultChunkSide = 16;

    /// <summary>
    /// Runs the chunkwise form on any X×Y grid and returns the output and the final border states. The grid is cut into
    /// near-equal chunks of side at most <paramref name="chunkSide"/> (each axis zero-padded at its high end to a
    /// multiple of its chunk extent; padded cells are inert, clarification 3–4) and the output is cropped. Absent
    /// <see cref="Plstm2DInputs.T0dl"/>/<see cref="Plstm2DInputs.T0ru"/> are zero. The result does not depend on
    /// <paramref name="chunkSide"/>. <paramref name="scale"/> defaults to DK^(-1/2).
    /// </summary>
    /// <param name="inputs">The operator inputs.</param>
    /// <param name="chunkSide">Largest chunk side P (at least 1).</param>
    /// <param name="scale">QK scale; DK^(-1/2) when null.</param>
    /// <param name="recomputeInBackward">Keep only the gates for backward and recompute the in-chunk wavefront there
    /// (less memory, one more program run; same result and gradients).</param>
    /// <exception cref="ArgumentException">Malformed inputs, or <paramref name="chunkSide"/> &lt; 1.</exception>
    public static Plstm2DOutput Forward(Plstm2DInputs inputs, int chunkSide = DefaultChunkSide, double? scale = null,
        bool recomputeInBackward = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dims = inputs.Validate();
        if (!HasScalarGates(dims))
            return Plstm2DHierarchical.Forward(inputs, FallbackLevels(chunkSide), scale);
        using var scope = NewDisposeScope();
        var part = ChunkPartition.Of(dims["X"], dims["Y"], chunkSide);
        var parts = Scan(inputs, part, finalStates: true, recomputeInBackward);
        var y = Assemble(parts, inputs.D0, scale ?? OperatorMath.DefaultScale(dims["DK"]));
        return new Plstm2DOutput(y.MoveToOuterDisposeScope(), parts.FinalRight!.MoveToOuterDisposeScope(),
            parts.FinalBottom!.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// As <see cref="Forward"/>, but returns only the output <c>[B, X, Y, DV, JO]</c>. Border work nobody reads is
    /// skipped: with one chunk and no initial states the program runs without ports and the border pass not at all.
    /// </summary>
    /// <param name="inputs">The operator inputs.</param>
    /// <param name="chunkSide">Largest chunk side P (at least 1).</param>
    /// <param name="scale">QK scale; DK^(-1/2) when null.</param>
    /// <param name="recomputeInBackward">As for <see cref="Forward"/>.</param>
    /// <exception cref="ArgumentException">Malformed inputs, or <paramref name="chunkSide"/> &lt; 1.</exception>
    public static Tensor Output(Plstm2DInputs inputs, int chunkSide = DefaultChunkSide, double? scale = null,
        bool recomputeInBackward = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dims = inputs.Validate();
        if (!HasScalarGates(dims))
            return Plstm2DHierarchical.Output(inputs, FallbackLevels(chunkSide), scale);
        using var scope = NewDisposeScope();
        var part = ChunkPartition.Of(dims["X"], dims["Y"], chunkSide);
        var parts = Scan(inputs, part, finalStates: false, recomputeInBackward);
        return Assemble(parts, inputs.D0, scale ?? OperatorMath.DefaultScale(dims["DK"])).MoveToOuterDisposeScope();
    }

    /// <summary>Whether validated inputs have every J = 1, the case this form computes itself.</summary>
    public static bool HasScalarGates(ShapeContract dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        return dims["JT"] == 1 && dims["JK"] == 1 && dims["JV"] == 1 && dims["JQ"] == 1 && dims["JO"] == 1;
    }

    /// <summary>Levels of the hierarchical fallback: the chunk side rounded up to a power of two, capped at 2^16.</summary>
    internal static int FallbackLevels(int chunkSide)
    {
        if (chunkSide < 1)
            throw new ArgumentOutOfRangeException(nameof(chunkSide), chunkSide, "the chunk side must be at least 1");
        return Math.Min(16, OperatorMath.CeilLog2(chunkSide));
    }

    /// <summary>scale · (in-chunk attention with D0 + border read), back on the grid: <c>[B, X, Y, DV, 1]</c>.</summary>
    private static Tensor Assemble(ChunkwiseParts parts, Tensor D0, double scale)
    {
        using var scope = NewDisposeScope();
        var part = parts.Partition;
        var direct = ChunkwiseParts.ToChunks(Plstm2DHierarchical.PadGrid(ScalarGrid(D0), part.Xp, part.Yp), part)
            .reshape(parts.Batch * part.Chunks, part.Cells);                                     // [N, cells]
        var y = ChunkwiseParts.Attention(parts.Q, parts.K, parts.V, parts.Gate, direct);        // [N, cells, DV]
        if (parts.BorderRead is not null) y = y + parts.BorderRead;
        return ChunkwiseParts.FromChunks(y * scale, part, parts.Batch).unsqueeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Everything but the attention: the in-chunk path sums, chunk-major q/k/v and, when some entering state can be
    /// non-zero or final states are asked for, the border pass. Inputs must be validated and scalar.
    /// <paramref name="recompute"/> runs the in-chunk program through <see cref="RecomputedGates"/>.
    /// </summary>
    internal static ChunkwiseParts Scan(Plstm2DInputs inputs, ChunkPartition part, bool finalStates, bool recompute)
    {
        using var scope = NewDisposeScope();
        long B = inputs.Q.shape[0], DK = inputs.Q.shape[3], DV = inputs.V.shape[3];
        long N = B * part.Chunks, cells = part.Cells, ports = part.Ports;
        bool initial = inputs.InitialLeft is not null || inputs.InitialTop is not null;
        bool readBorders = part.Chunks > 1 || initial;
        bool withPorts = readBorders || finalStates;

        Tensor Padded(Tensor t) => Plstm2DHierarchical.PadGrid(t, part.Xp, part.Yp);
        Tensor Chunked(Tensor t) => ChunkwiseParts.ToChunks(t, part);
        Tensor Gate(Tensor t) => Chunked(Padded(ScalarGrid(t)));                                  // [N, Px, Py]
        Tensor? OptionalGate(Tensor? t) => t is null ? null : Gate(t);

        var trl = Padded(ScalarGrid(inputs.T0rl));
        var tdu = Padded(ScalarGrid(inputs.T0du));
        // Padded cells carry the final border states through unchanged: straight transitions 1 in the padded columns of
        // real rows (rl) and the padded rows of real columns (du). Real cells never read padded ones.
        if (finalStates && part.Xp > part.X) trl = trl + PassThrough(part, alongX: true, trl.dtype, trl.device);
        if (finalStates && part.Yp > part.Y) tdu = tdu + PassThrough(part, alongX: false, tdu.dtype, tdu.device);
        var (sr, sd, ml, mu) = (Gate(inputs.S0r), Gate(inputs.S0d), Gate(inputs.M0l), Gate(inputs.M0u));
        var (tdl, tru) = (OptionalGate(inputs.T0dl), OptionalGate(inputs.T0ru));
        var sums = recompute
            ? RecomputedGates.ChunkPathSums(sr, sd, Chunked(trl), Chunked(tdu), tdl, tru, ml, mu, withPorts)
            : ChunkPathSums.Compute(sr, sd, Chunked(trl), Chunked(tdu), tdl, tru, ml, mu, withPorts);

        var q = Chunked(Padded(inputs.Q.squeeze(-1))).reshape(N, cells, DK);                      // [N, cells, DK]
        var k = Chunked(Padded(inputs.K.squeeze(-1))).reshape(N, cells, DK);                      // [N, cells, DK]
        var v = Chunked(Padded(inputs.V.squeeze(-1))).reshape(N, cells, DV);                      // [N, cells, DV]
        if (!withPorts)
            return Parts(null, null, null);

        // Chunk-local source sums on the output ports: Σ_cells 𝒮[port, cell] k_cell v_cellᵀ.
        var sourced = (sums.Sources!.unsqueeze(-1) * k.unsqueeze(1)).transpose(-1, -2)
            .matmul(v.unsqueeze(1));                                                              // [N, ports, DK, DV]
        var wave = ChunkBorderWavefront.Run(sums.Transfers!.view(B, part.NX, part.NY, ports, ports),
            sourced.view(B, part.NX, part.NY, ports, DK * DV), BorderStates(inputs, part, DK * DV), part);

        Tensor? read = null;
        if (readBorders)
        {
            // Σ_ports ℳ[cell, port] q_cell · Ĉ[port]: one matmul over (port, DK).
            var markedQueries = (sums.Marks!.unsqueeze(-1) * q.unsqueeze(2)).reshape(N, cells, ports * DK);
            read = markedQueries.matmul(wave.Entering.reshape(N, ports * DK, DV));                // [N, cells, DV]
        }
        Tensor? finalRight = null, finalBottom = null;
        if (finalStates)
        {
            finalRight = wave.Exits.select(1, part.NX - 1).narrow(2, 0, part.Py)                // [B, NY, Py, F]
                .reshape(B, part.Yp, DK, DV).narrow(1, 0, part.Y).unsqueeze(-1);                  // [B, Y, DK, DV, 1]
            finalBottom = wave.Exits.select(2, part.NY - 1).narrow(2, part.Py, part.Px)           // [B, NX, Px, F]
                .reshape(B, part.Xp, DK, DV).narrow(1, 0, part.X).unsqueeze(-1);                  // [B, X, DK, DV, 1]
        }
        return Parts(read, finalRight, finalBottom);

        ChunkwiseParts Parts(Tensor? borderRead, Tensor? right, Tensor? bottom) => new(part, B,
            sums.Gate.MoveToOuterDisposeScope(), q.MoveToOuterDisposeScope(), k.MoveToOuterDisposeScope(),
            v.MoveToOuterDisposeScope(), borderRead?.MoveToOuterDisposeScope(), right?.MoveToOuterDisposeScope(),
            bottom?.MoveToOuterDisposeScope());
    }

    /// <summary>A scalar (all J = 1) per-cell tensor <c>[B, X, Y, 1, …, 1]</c> as <c>[B, X, Y]</c>.</summary>
    internal static Tensor ScalarGrid(Tensor t) => t.reshape(t.shape[0], t.shape[1], t.shape[2]);

    /// <summary>
    /// The given border states on the input ports of the first chunk column (l-ports, from InitialLeft) and the first
    /// chunk row (u-ports, from InitialTop), zero elsewhere: <c>[B, NX, NY, ports, F]</c>, or null if none is given.
    /// </summary>
    private static Tensor? BorderStates(Plstm2DInputs inputs, ChunkPartition part, long F)
    {
        if (inputs.InitialLeft is null && inputs.InitialTop is null)
            return null;
        var like = inputs.InitialLeft ?? inputs.InitialTop!;
        long B = like.shape[0];
        Tensor left = inputs.InitialLeft is null
            ? zeros(new[] { B, part.NX, part.NY, part.Py, F }, dtype: like.dtype, device: like.device)
            : Plstm2DHierarchical.PadAxis(                                                       // only chunk column 0
                Plstm2DHierarchical.PadAxis(inputs.InitialLeft.reshape(B, part.Y, F), 1, part.Yp)
                    .view(B, 1, part.NY, part.Py, F), 1, part.NX);                                // [B, NX, NY, Py, F]
        Tensor top = inputs.InitialTop is null
            ? zeros(new[] { B, part.NX, part.NY, part.Px, F }, dtype: like.dtype, device: like.device)
            : Plstm2DHierarchical.PadAxis(                                                       // only chunk row 0
                Plstm2DHierarchical.PadAxis(inputs.InitialTop.reshape(B, part.X, F), 1, part.Xp)
                    .view(B, part.NX, 1, part.Px, F), 2, part.NY);                                // [B, NX, NY, Px, F]
        return cat(new[] { left, top }, 3);                                                      // [B, NX, NY, ports, F]
    }

    /// <summary>1 on the padded cells that must pass a final state through (padded columns of real rows for
    /// <paramref name="alongX"/>, else padded rows of real columns), 0 elsewhere: <c>[1, Xp, Yp]</c>.</summary>
    private static Tensor PassThrough(ChunkPartition part, bool alongX, ScalarType dtype, Device device)
    {
        var mask = zeros(new[] { 1, part.Xp, part.Yp }, dtype: dtype, device: device);
        if (alongX)
            mask.narrow(1, part.X, part.Xp - part.X).narrow(2, 0, part.Y).fill_(1.0);
        else
            mask.narrow(1, 0, part.X).narrow(2, part.Y, part.Yp - part.Y).fill_(1.0);
        return mask;
    }
}
