using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// Path sums inside Px × Py chunks with scalar gates (all J = 1), for every chunk and every source at once, by a
/// wavefront dynamic program over the chunk's anti-diagonals (README §"Chunkwise form"). For a source, w^r(cell) and
/// w^d(cell) are the summed path weights reaching the cell's r- and d-out-edges; with L, U the weights on its left and
/// upper in-edges,
/// <code>
///   w^r = T0rl·L + T0ru·U + S0r·[cell is the source]
///   w^d = T0dl·L + T0du·U + S0d·[cell is the source]
///   𝒢[cell ← source] = M0l·L + M0u·U
/// </code>
/// One step handles a whole anti-diagonal of every chunk and every source (<see cref="AntiDiagonalOrder"/>): two
/// re-aligning pads, a concatenation and one batched 3×3 matmul on <c>[N, cells of the diagonal, 3, sources so far]</c>,
/// Px + Py − 1 steps in all, never a loop over cells.
/// With ports, the chunk grid is extended by a virtual column a = −1 whose cells are the l-ports (source into r: 1) and
/// a virtual row b = −1 of u-ports (source into d: 1); the same program then also yields ℳ (port → mark), 𝒮 (cell →
/// output port) and 𝒯 (port → port).
/// </summary>
/// <param name="Gate">In-chunk gate 𝒢 without the D0 diagonal, <c>[N, cells (target), cells (source)]</c>, cells
/// row-major (x-offset · Py + y-offset).</param>
/// <param name="Marks">ℳ, <c>[N, cells, ports]</c>: input port (Py l-ports then Px u-ports) → mark at a cell; null
/// without ports.</param>
/// <param name="Sources">𝒮, <c>[N, ports, cells]</c>: source at a cell → output port (Py r-ports then Px d-ports); null
/// without ports.</param>
/// <param name="Transfers">𝒯, <c>[N, ports (out), ports (in)]</c> = [[rl, ru], [dl, du]]; null without ports.</param>
internal sealed record ChunkPathSums(Tensor Gate, Tensor? Marks, Tensor? Sources, Tensor? Transfers)
{
    /// <summary>
    /// Runs the wavefront on scalar gates given per chunk cell, each <c>[N, Px, Py]</c> (N = batch · chunks);
    /// absent turns (<paramref name="tdl"/>, <paramref name="tru"/> null) are zero. <paramref name="withPorts"/> also
    /// computes <see cref="Marks"/>, <see cref="Sources"/> and <see cref="Transfers"/>.
    /// </summary>
    public static ChunkPathSums Compute(Tensor sr, Tensor sd, Tensor trl, Tensor tdu, Tensor? tdl, Tensor? tru,
        Tensor ml, Tensor mu, bool withPorts)
    {
        using var scope = NewDisposeScope();
        long N = sr.shape[0], Px = sr.shape[1], Py = sr.shape[2], cells = Px * Py;
        long ext = withPorts ? 1 : 0;                                         // the virtual port column/row
        long gx = Px + ext, gy = Py + ext;                                    // extent of the program's grid
        var order = new AntiDiagonalOrder(gx, gy);
        long S = order.Cells;                                                 // sources: every cell of the program's grid
        var dtype = sr.dtype;
        var device = sr.device;

        // Per cell a 3×3 step matrix: rows (r-out, d-out, mark), columns (left-in L, up-in U, own source).
        var zero = zeros_like(sr);
        var step = stack(new[] { trl, tru ?? zero, sr, tdl ?? zero, tdu, sd, ml, mu, zero }, -1)
            .view(N, Px, Py, 3, 3);                                                               // [N, Px, Py, 3, 3]
        if (withPorts)
        {
            step = nn.functional.pad(step, new long[] { 0, 0, 0, 0, 1, 0, 1, 0 });                  // [N, gx, gy, 3, 3]
            step = step + PortSteps(gx, gy, dtype, device);
        }
        step = order.ToDiagonalOrder(step.view(N, S, 3, 3), 1);                                   // [N, S, 3, 3]

        // The wavefront. Sources are the cells in diagonal order too, so on diagonal k exactly the first Start(k + 1)
        // sources can have reached anything: the blocks grow along the source axis instead of carrying zeros.
        // Without ports only the mark row is kept (the r/d rows only feed the next diagonal).
        var identity = eye(S, dtype: dtype, device: device);
        Tensor? previous = null;                                                                  // [N, count, 3, active]
        var rows = new List<Tensor>((int)order.Diagonals);
        for (long k = 0; k < order.Diagonals; k++)
        {
            long first = order.Start(k), count = order.Count(k), active = order.Start(k + 1);
            var own = identity.narrow(0, first, count).narrow(1, 0, active).view(1, count, 1, active)
                .expand(N, count, 1, active);                                                    // each cell its own source
            Tensor left, up;
            if (previous is null)
            {
                left = up = zeros(new[] { N, count, 1, active }, dtype: dtype, device: device);
            }
            else
            {
                // The previous diagonal's r-out feeds the right neighbour (x-offset + 1), its d-out the cell below.
                long lo = order.Lo(k), hi = order.Hi(k), previousLo = order.Lo(k - 1);
                left = AntiDiagonalOrder.Realign(previous.narrow(2, 0, 1), 1, previousLo + 1, lo, hi, count);
                up = AntiDiagonalOrder.Realign(previous.narrow(2, 1, 1), 1, previousLo, lo, hi, count);
            }
            previous = step.narrow(1, first, count).matmul(cat(new[] { left, up, own }, 2));     // [N, count, 3, active]
            var kept = withPorts ? previous : previous.narrow(2, 2, 1);
            rows.Add(nn.functional.pad(kept, new long[] { 0, S - active }));                      // [N, count, 1|3, S]
        }
        var all = cat(rows, 1);                                                                   // [N, S (target), 1|3, S]
        var marks = all.select(2, withPorts ? 2 : 0);                                             // [N, S, S]

        // Back to row-major real cells; columns: real cells, then l-ports, then u-ports.
        var realCells = new long[cells];
        for (long a = 0; a < Px; a++)
            for (long b = 0; b < Py; b++)
                realCells[a * Py + b] = order.PositionOf(a + ext, b + ext);
        var realRows = Index(realCells, device);
        if (!withPorts)
        {
            var gate = marks.index_select(1, realRows).index_select(2, realRows);                 // [N, cells, cells]
            return new ChunkPathSums(gate.MoveToOuterDisposeScope(), null, null, null);
        }
        var columns = Index(realCells
            .Concat(Enumerable.Range(1, (int)Py).Select(b => order.PositionOf(0, b)))             // l-ports
            .Concat(Enumerable.Range(1, (int)Px).Select(a => order.PositionOf(a, 0)))             // u-ports
            .ToArray(), device);
        var marked = marks.index_select(1, realRows).index_select(2, columns);                    // [N, cells, cells + ports]
        // Exits: r-out of the last column (by y-offset), d-out of the last row (by x-offset).
        var rightExits = Enumerable.Range(1, (int)Py).Select(b => order.PositionOf(Px, b)).ToArray();
        var downExits = Enumerable.Range(1, (int)Px).Select(a => order.PositionOf(a, Py)).ToArray();
        var exits = cat(new[]
        {
            all.select(2, 0).index_select(1, Index(rightExits, device)),                          // [N, Py, S]
            all.select(2, 1).index_select(1, Index(downExits, device)),                           // [N, Px, S]
        }, 1).index_select(2, columns);                                                           // [N, ports, cells + ports]
        long ports = Px + Py;
        return new ChunkPathSums(
            marked.narrow(2, 0, cells).MoveToOuterDisposeScope(),
            marked.narrow(2, cells, ports).MoveToOuterDisposeScope(),
            exits.narrow(2, 0, cells).MoveToOuterDisposeScope(),
            exits.narrow(2, cells, ports).MoveToOuterDisposeScope());
    }

    /// <summary>Step matrices of the virtual port cells: an l-port sources 1 into its r-out-edge, a u-port 1 into its
    /// d-out-edge; nothing else (no transitions, no marks). Zero at the real cells. <c>[gx, gy, 3, 3]</c>.</summary>
    private static Tensor PortSteps(long gx, long gy, ScalarType dtype, Device device)
    {
        var steps = zeros(new[] { gx, gy, 3, 3 }, dtype: dtype, device: device);
        steps.select(0, 0).narrow(0, 1, gy - 1).select(1, 0).select(1, 2).fill_(1.0);           // l-ports: r ← own source
        steps.select(1, 0).narrow(0, 1, gx - 1).select(1, 1).select(1, 2).fill_(1.0);           // u-ports: d ← own source
        return steps;
    }

    private static Tensor Index(long[] values, Device device) => tensor(values, dtype: ScalarType.Int64, device: device);
}
