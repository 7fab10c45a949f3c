using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The cells of an nx × ny grid sorted by anti-diagonal, the order the wavefront passes of <see cref="Plstm2DChunkwise"/>
/// run in: diagonal k = a + b (k = 0 … nx + ny − 2) holds the cells a = Lo(k) … Hi(k) (b = k − a), stored contiguously
/// from <see cref="Start"/>(k) in increasing a. A cell's left neighbour (a − 1, b) and upper neighbour (a, b − 1) both lie
/// on diagonal k − 1, so one wavefront step reads the previous diagonal's block, re-aligned by <see cref="Realign"/>
/// (shifted by one cell for the left neighbour): whole diagonals at once, no per-cell indexing, no empty slots.
/// </summary>
internal sealed class AntiDiagonalOrder
{
    private readonly long[] _start;

    /// <summary>Creates the order of an <paramref name="nx"/> × <paramref name="ny"/> grid (row-major cells a·ny + b).</summary>
    public AntiDiagonalOrder(long nx, long ny)
    {
        if (nx < 1) throw new ArgumentOutOfRangeException(nameof(nx), nx, "must be at least 1");
        if (ny < 1) throw new ArgumentOutOfRangeException(nameof(ny), ny, "must be at least 1");
        Nx = nx;
        Ny = ny;
        _start = new long[Diagonals + 1];
        for (long k = 0; k < Diagonals; k++)
            _start[k + 1] = _start[k] + Count(k);
    }

    /// <summary>Extent along x.</summary>
    public long Nx { get; }

    /// <summary>Extent along y.</summary>
    public long Ny { get; }

    /// <summary>Number of anti-diagonals, nx + ny − 1.</summary>
    public long Diagonals => Nx + Ny - 1;

    /// <summary>Number of cells, nx·ny.</summary>
    public long Cells => Nx * Ny;

    /// <summary>Smallest x-offset on diagonal <paramref name="k"/>.</summary>
    public long Lo(long k) => Math.Max(0, k - Ny + 1);

    /// <summary>Largest x-offset on diagonal <paramref name="k"/>.</summary>
    public long Hi(long k) => Math.Min(k, Nx - 1);

    /// <summary>Number of cells on diagonal <paramref name="k"/>.</summary>
    public long Count(long k) => Hi(k) - Lo(k) + 1;

    /// <summary>Position of diagonal <paramref name="k"/>'s first cell in the order (<see cref="Cells"/> for k =
    /// <see cref="Diagonals"/>): the cells of diagonals 0 … k − 1 are exactly the positions below it.</summary>
    public long Start(long k) => _start[k];

    /// <summary>Position of cell (a, b) in the order.</summary>
    public long PositionOf(long a, long b) => Start(a + b) + a - Lo(a + b);

    /// <summary>For every position in the order, the row-major index a·ny + b of its cell.</summary>
    public long[] RowMajorOfEveryPosition()
    {
        var cells = new long[Cells];
        for (long a = 0; a < Nx; a++)
            for (long b = 0; b < Ny; b++)
                cells[PositionOf(a, b)] = a * Ny + b;
        return cells;
    }

    /// <summary>Axis <paramref name="axis"/> of <paramref name="rowMajor"/> (length nx·ny, row-major) in diagonal
    /// order; one gather, differentiable.</summary>
    public Tensor ToDiagonalOrder(Tensor rowMajor, int axis)
    {
        using var scope = NewDisposeScope();
        var index = tensor(RowMajorOfEveryPosition(), dtype: ScalarType.Int64, device: rowMajor.device);
        return rowMajor.index_select(axis, index).MoveToOuterDisposeScope();
    }

    /// <summary>Inverse of <see cref="ToDiagonalOrder"/>: axis <paramref name="axis"/> of <paramref name="diagonalOrder"/>
    /// back in row-major order.</summary>
    public Tensor ToRowMajor(Tensor diagonalOrder, int axis)
    {
        using var scope = NewDisposeScope();
        var positions = new long[Cells];
        for (long a = 0; a < Nx; a++)
            for (long b = 0; b < Ny; b++)
                positions[a * Ny + b] = PositionOf(a, b);
        var index = tensor(positions, dtype: ScalarType.Int64, device: diagonalOrder.device);
        return diagonalOrder.index_select(axis, index).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Re-aligns a block of values indexed by x-offsets <paramref name="fromLo"/> … <paramref name="fromLo"/> + n − 1
    /// along axis <paramref name="axis"/> to the x-offsets <paramref name="toLo"/> … <paramref name="toHi"/>: entries
    /// outside the source range become 0, source entries outside the target range are dropped; axis
    /// <paramref name="axis"/> + 2 (the source axis of the wavefront) is zero-extended by <paramref name="widen"/> at its
    /// end. One (possibly cropping) constant pad.
    /// </summary>
    public static Tensor Realign(Tensor block, int axis, long fromLo, long toLo, long toHi, long widen)
    {
        long n = block.shape[axis];
        var pad = new long[2 * (block.dim() - axis)];
        pad[^2] = fromLo - toLo;                                      // before: x-offsets toLo … fromLo − 1 are zero
        pad[^1] = toHi - (fromLo + n - 1);                            // after: x-offsets beyond the block are zero
        pad[^5] = widen;                                              // the axis two further on: new (zero) columns
        return nn.functional.pad(block, pad);
    }
}
