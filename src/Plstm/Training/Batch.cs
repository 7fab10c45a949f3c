using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// One mini-batch from a <see cref="DataLoader"/>: images <c>[B, C, H, W]</c> float32 and labels <c>[B]</c> int64, both
/// on the CPU, created on the thread that reads the batch (so that thread's dispose bookkeeping stays balanced).
/// The receiver owns the tensors; <see cref="Dispose"/> releases them.
/// </summary>
public sealed class Batch : IDisposable
{
    internal Batch(Tensor images, Tensor labels, DataPosition position, int[] indices)
    {
        Images = images;
        Labels = labels;
        Position = position;
        Indices = indices;
    }

    /// <summary>Images <c>[B, C, H, W]</c>, float32, CPU (pinned memory when the loader pins, <see cref="DataLoader.PinMemory"/>).</summary>
    public Tensor Images { get; }

    /// <summary>Labels <c>[B]</c>, int64, CPU.</summary>
    public Tensor Labels { get; }

    /// <summary>The position of this batch (epoch and batch index).</summary>
    public DataPosition Position { get; }

    /// <summary>The dataset indices of the samples, in batch order.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>Number of samples.</summary>
    public int Size => Indices.Count;

    /// <summary>Releases both tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
