namespace Plstm.Data;

/// <summary>
/// An <see cref="IImageDataset"/> that writes a whole batch of samples straight into managed buffers — no tensor per
/// sample, the samples in parallel where that pays — which the data loader prefers (<see cref="ImageBatch.Fill"/>):
/// rendering or decoding one image after another on one thread left a GPU waiting for its batches (arrow pointing at
/// 192 px on the H200: about 400 images/s through the trainer against the device's 3,500). What it writes must equal,
/// bit for bit, what <see cref="IImageDataset.Get"/> returns for the same indices, whatever the thread count.
/// </summary>
public interface IBatchImageDataset : IImageDataset
{
    /// <summary>
    /// Writes the image of sample <c>indices[i]</c> (normalised, <c>[Channels, Height, Width]</c> as
    /// <see cref="IImageDataset.Get"/> returns it) at <c>pixels[i·C·H·W …]</c> and its label at <c>labels[i]</c>.
    /// Indices may repeat. Safe to call from several threads at once.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the dataset.</exception>
    /// <exception cref="ArgumentException">A buffer is shorter than the batch needs.</exception>
    void FillBatch(IReadOnlyList<int> indices, float[] pixels, long[] labels);
}
