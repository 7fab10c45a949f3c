namespace Plstm.Ops.TwoD;

/// <summary>
/// How <see cref="Plstm2DChunkwise"/> cuts an X × Y grid into NX × NY equal chunks of Px × Py cells, each side at most
/// the requested chunk side P: NX = ⌈X / P⌉ chunks of Px = ⌈X / NX⌉ cells (near-equal chunks, so that at most NX − 1
/// cells of padding are added: 17 with P = 8 gives 3 chunks of 6, not 3 of 8), likewise along y. The padded grid is
/// Xp × Yp = NX·Px × NY·Py; padding sits at the high end of each axis.
/// </summary>
/// <param name="X">Grid extent along x.</param>
/// <param name="Y">Grid extent along y.</param>
/// <param name="NX">Chunks along x.</param>
/// <param name="NY">Chunks along y.</param>
/// <param name="Px">Chunk extent along x.</param>
/// <param name="Py">Chunk extent along y.</param>
internal sealed record ChunkPartition(long X, long Y, long NX, long NY, long Px, long Py)
{
    /// <summary>Partitions an <paramref name="x"/> × <paramref name="y"/> grid into chunks of side at most
    /// <paramref name="chunkSide"/>.</summary>
    public static ChunkPartition Of(long x, long y, int chunkSide)
    {
        if (chunkSide < 1)
            throw new ArgumentOutOfRangeException(nameof(chunkSide), chunkSide, "the chunk side must be at least 1");
        long nx = (x + chunkSide - 1) / chunkSide, ny = (y + chunkSide - 1) / chunkSide;
        return new ChunkPartition(x, y, nx, ny, (x + nx - 1) / nx, (y + ny - 1) / ny);
    }

    /// <summary>Padded extent along x, NX·Px.</summary>
    public long Xp => NX * Px;

    /// <summary>Padded extent along y, NY·Py.</summary>
    public long Yp => NY * Py;

    /// <summary>Cells per chunk, Px·Py.</summary>
    public long Cells => Px * Py;

    /// <summary>Chunks in the grid, NX·NY.</summary>
    public long Chunks => NX * NY;

    /// <summary>Input ports of a chunk: Py l-ports (r-edges entering its left column, by y-offset) then Px u-ports
    /// (d-edges entering its top row, by x-offset). The output ports (r then d) have the same sizes.</summary>
    public long Ports => Py + Px;

    /// <summary>Whether the grid needs no padding (then flipping the grid maps chunks onto chunks).</summary>
    public bool IsExact => Xp == X && Yp == Y;
}
