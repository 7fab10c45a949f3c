namespace Plstm.Training;

/// <summary>
/// Where a <see cref="DataLoader"/> stands: the epoch (0-based) and the index of the next batch within it. Together
/// with the loader's seed this fixes every later batch, which is what makes a resumed run see the same data.
/// </summary>
/// <param name="Epoch">The epoch, 0-based.</param>
/// <param name="BatchIndex">The batch within the epoch, 0-based.</param>
public readonly record struct DataPosition(int Epoch, int BatchIndex)
{
    /// <summary>The first batch of the first epoch.</summary>
    public static DataPosition Start => default;

    /// <summary>The position after this one, rolling over to the next epoch after <paramref name="batchesPerEpoch"/>.</summary>
    public DataPosition Next(int batchesPerEpoch) =>
        BatchIndex + 1 < batchesPerEpoch ? new(Epoch, BatchIndex + 1) : new(Epoch + 1, 0);

    /// <summary>The position after <paramref name="steps"/> batches from the start (one batch per step).</summary>
    public static DataPosition AfterSteps(long steps, int batchesPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchesPerEpoch);
        return new DataPosition(checked((int)(steps / batchesPerEpoch)), (int)(steps % batchesPerEpoch));
    }
}
