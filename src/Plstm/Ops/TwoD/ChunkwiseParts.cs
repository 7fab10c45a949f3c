using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// What the chunkwise scan (<see cref="Plstm2DChunkwise"/>) computes before the masked attention: per chunk the in-chunk
/// gate 𝒢 (without D0), the chunk-major q/k/v, and the read of the entering border states. Split like this so that the
/// fused four-orientation form can flip and sum the orientations' gates before one attention.
/// </summary>
/// <param name="Partition">The chunking of the grid.</param>
/// <param name="Batch">Batch size B (N = B·NX·NY chunks in all).</param>
/// <param name="Gate">𝒢 without D0, <c>[N, cells (target), cells (source)]</c>.</param>
/// <param name="Q">Chunk-major padded queries <c>[N, cells, DK]</c>.</param>
/// <param name="K">Chunk-major padded keys <c>[N, cells, DK]</c>.</param>
/// <param name="V">Chunk-major padded values <c>[N, cells, DV]</c>.</param>
/// <param name="BorderRead">Σ_ports Q ℳ[cell, port] Ĉ[port] (unscaled) <c>[N, cells, DV]</c>, or null when every entering
/// state is zero (one chunk, no initial states).</param>
/// <param name="FinalRight">C^r(X−1, ·) <c>[B, Y, DK, DV, 1]</c>, when requested.</param>
/// <param name="FinalBottom">C^d(·, Y−1) <c>[B, X, DK, DV, 1]</c>, when requested.</param>
internal sealed record ChunkwiseParts(ChunkPartition Partition, long Batch, Tensor Gate, Tensor Q, Tensor K, Tensor V,
    Tensor? BorderRead, Tensor? FinalRight, Tensor? FinalBottom)
{
    /// <summary>Masked linear attention inside every chunk, (Q Kᵀ ⊙ 𝒢) V with 𝒢 = <paramref name="gate"/> plus
    /// <paramref name="direct"/> (D0, <c>[N, cells]</c>) on the diagonal: <c>[N, cells, DV]</c>, unscaled.</summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor gate, Tensor direct)
    {
        using var scope = NewDisposeScope();
        var mask = gate + diag_embed(direct);                                                   // [N, cells, cells]
        return (q.matmul(k.transpose(1, 2)) * mask).matmul(v).MoveToOuterDisposeScope();       // [N, cells, DV]
    }

    /// <summary>A <c>[B, X, Y, …]</c> tensor (already padded to Xp × Yp) in chunk-major order
    /// <c>[B·NX·NY, Px, Py, …]</c>.</summary>
    public static Tensor ToChunks(Tensor grid, ChunkPartition part)
    {
        long B = grid.shape[0];
        var rest = grid.shape[3..];
        return grid.reshape([B, part.NX, part.Px, part.NY, part.Py, .. rest]).transpose(2, 3)
            .reshape([B * part.Chunks, part.Px, part.Py, .. rest]);
    }

    /// <summary>Inverse of <see cref="ToChunks"/> for <c>[B·NX·NY, cells, F]</c>, cropped to the real grid:
    /// <c>[B, X, Y, F]</c>.</summary>
    public static Tensor FromChunks(Tensor chunks, ChunkPartition part, long batch)
    {
        long F = chunks.shape[^1];
        return chunks.reshape(batch, part.NX, part.NY, part.Px, part.Py, F).transpose(2, 3)
            .reshape(batch, part.Xp, part.Yp, F).narrow(1, 0, part.X).narrow(2, 0, part.Y);
    }
}
