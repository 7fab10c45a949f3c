using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The inter-chunk pass of <see cref="Plstm2DChunkwise"/> (operators §3.4): chunk border states travel along the
/// anti-diagonals of the chunk grid, NX + NY − 1 steps, each two re-aligning pads, one concatenation and one batched
/// matmul for all chunks of the diagonal (chunks in <see cref="AntiDiagonalOrder"/>). A chunk's entering states are the
/// r-exits of its left neighbour (its l-ports) and the d-exits of its upper neighbour (its u-ports), or the given border
/// states; its exits are
/// <code>
///   exit = 𝒯 · entering + Σ_cells 𝒮[cell] (K ⊗ V)[cell]
/// </code>
/// </summary>
/// <param name="Entering">States on every chunk's input ports, <c>[B, NX, NY, ports (Py l then Px u), DK·DV]</c>.</param>
/// <param name="Exits">States on every chunk's output ports, <c>[B, NX, NY, ports (Py r then Px d), DK·DV]</c>.</param>
internal sealed record ChunkBorderWavefront(Tensor Entering, Tensor Exits)
{
    /// <summary>
    /// Runs the pass. <paramref name="transfers"/> 𝒯 <c>[B, NX, NY, ports, ports]</c>, <paramref name="sourced"/> (the
    /// chunk-local source sums) <c>[B, NX, NY, ports, F]</c>, <paramref name="borders"/> the given border states on the
    /// input ports of the first chunk column/row (zero elsewhere) <c>[B, NX, NY, ports, F]</c>, or null for none.
    /// </summary>
    public static ChunkBorderWavefront Run(Tensor transfers, Tensor sourced, Tensor? borders, ChunkPartition part)
    {
        using var scope = NewDisposeScope();
        long B = transfers.shape[0], NX = part.NX, NY = part.NY, ports = part.Ports, F = sourced.shape[^1];
        var order = new AntiDiagonalOrder(NX, NY);
        Tensor Ordered(Tensor t) => order.ToDiagonalOrder(t.reshape([B, NX * NY, .. t.shape[3..]]), 1);
        var transfersOrdered = Ordered(transfers);                                               // [B, chunks, ports, ports]
        var sourcedOrdered = Ordered(sourced);                                                   // [B, chunks, ports, F]
        var bordersOrdered = borders is null ? null : Ordered(borders);

        Tensor? previous = null;                                                                 // exits of diagonal k − 1
        var entering = new List<Tensor>((int)order.Diagonals);
        var exits = new List<Tensor>((int)order.Diagonals);
        for (long k = 0; k < order.Diagonals; k++)
        {
            long first = order.Start(k), count = order.Count(k);
            Tensor enter;                                                                        // [B, count, ports, F]
            if (previous is null)
            {
                enter = zeros(new[] { B, count, ports, F }, dtype: sourced.dtype, device: sourced.device);
            }
            else
            {
                // l-ports ← r-exits of the chunk to the left (x-offset − 1); u-ports ← d-exits of the chunk above.
                long lo = order.Lo(k), hi = order.Hi(k), previousLo = order.Lo(k - 1);
                var fromLeft = AntiDiagonalOrder.Realign(previous.narrow(2, 0, part.Py), 1, previousLo + 1, lo, hi, 0);
                var fromAbove = AntiDiagonalOrder.Realign(previous.narrow(2, part.Py, part.Px), 1, previousLo, lo, hi, 0);
                enter = cat(new[] { fromLeft, fromAbove }, 2);
            }
            if (bordersOrdered is not null) enter = enter + bordersOrdered.narrow(1, first, count);
            previous = transfersOrdered.narrow(1, first, count).matmul(enter)
                       + sourcedOrdered.narrow(1, first, count);                                 // [B, count, ports, F]
            entering.Add(enter);
            exits.Add(previous);
        }
        Tensor Grid(List<Tensor> diagonals) => order.ToRowMajor(cat(diagonals, 1), 1).view(B, NX, NY, ports, F);
        return new ChunkBorderWavefront(Grid(entering).MoveToOuterDisposeScope(), Grid(exits).MoveToOuterDisposeScope());
    }
}
