using static TorchSharp.torch;

namespace Plstm.Data;

/// <summary>
/// A labelled image classification dataset with random access: the common contract of the arrow-pointing generator,
/// IDX files (MNIST / Fashion-MNIST) and image folders, consumed by the data loader and the trainer.
/// </summary>
public interface IImageDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Number of classes; labels are 0 … NumClasses − 1.</summary>
    int NumClasses { get; }

    /// <summary>Channels of every image (e.g. 1 for MNIST, 3 for RGB).</summary>
    int Channels { get; }

    /// <summary>Image height in pixels (all samples share it).</summary>
    int Height { get; }

    /// <summary>Image width in pixels (all samples share it).</summary>
    int Width { get; }

    /// <summary>
    /// Sample <paramref name="index"/>: a normalised float32 image <c>[Channels, Height, Width]</c> on the CPU and its
    /// label. Deterministic for a given index; safe to call from several threads at once.
    /// </summary>
    (Tensor Image, long Label) Get(int index);
}
