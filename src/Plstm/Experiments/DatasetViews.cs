using Plstm.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Experiments;

/// <summary>A view of some samples of another dataset, in the order of <see cref="Indices"/>.</summary>
public sealed class SubsetDataset : IBatchImageDataset
{
    private readonly int[] _indices;

    /// <summary>Creates the view; every index must be a valid index of <paramref name="source"/>.</summary>
    public SubsetDataset(IImageDataset source, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(indices);
        foreach (int i in indices)
            if ((uint)i >= (uint)source.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"The source dataset has {source.Count} samples.");
        Source = source;
        _indices = [.. indices];
    }

    /// <summary>The first <paramref name="count"/> samples of <paramref name="source"/> (all when it has fewer).</summary>
    public static IImageDataset Head(IImageDataset source, int count) =>
        count >= source.Count ? source : new SubsetDataset(source, Enumerable.Range(0, Math.Max(count, 0)).ToArray());

    /// <summary>The samples <c>[start, start + count)</c> of <paramref name="source"/>.</summary>
    public static IImageDataset Range(IImageDataset source, int start, int count) =>
        start == 0 && count == source.Count ? source : new SubsetDataset(source, Enumerable.Range(start, count).ToArray());

    /// <summary>
    /// <paramref name="count"/> samples spread evenly over <paramref name="source"/> (indices ⌊i·n/count⌋), so that a
    /// cap on a class-sorted dataset still covers every class; the source itself when it has at most that many.
    /// </summary>
    public static IImageDataset Spread(IImageDataset source, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (count >= source.Count) return source;
        long n = source.Count;
        return new SubsetDataset(source, Enumerable.Range(0, Math.Max(count, 0)).Select(i => (int)(i * n / count)).ToArray());
    }

    /// <summary>The underlying dataset.</summary>
    public IImageDataset Source { get; }

    /// <summary>The source indices of the view's samples.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc />
    public int Count => _indices.Length;

    /// <inheritdoc />
    public int NumClasses => Source.NumClasses;

    /// <inheritdoc />
    public int Channels => Source.Channels;

    /// <inheritdoc />
    public int Height => Source.Height;

    /// <inheritdoc />
    public int Width => Source.Width;

    /// <inheritdoc />
    public (Tensor Image, long Label) Get(int index) => Source.Get(SourceIndex(index, nameof(index)));

    /// <inheritdoc />
    /// <remarks>Through the source's own batch fill when it has one (<see cref="ImageBatch.Fill"/>).</remarks>
    public void FillBatch(IReadOnlyList<int> indices, float[] pixels, long[] labels)
    {
        ImageBatch.CheckBuffers(this, indices, pixels, labels);
        var mapped = new int[indices.Count];
        for (int i = 0; i < mapped.Length; i++) mapped[i] = SourceIndex(indices[i], nameof(indices));
        ImageBatch.Fill(Source, mapped, pixels, labels);
    }

    /// <summary>The source's index of sample <paramref name="index"/>; out of range is refused naming
    /// <paramref name="argument"/>.</summary>
    private int SourceIndex(int index, string argument) => (uint)index < (uint)_indices.Length
        ? _indices[index]
        : throw new ArgumentOutOfRangeException(argument, index, $"The dataset has {_indices.Length} samples.");
}

/// <summary>
/// Another dataset with every image resized (bilinear, no align-corners, antialiased when shrinking) to
/// <see cref="Height"/>×<see cref="Width"/>. Used to evaluate file-based data at another resolution. The resize acts on
/// the normalised values, which commutes with the per-channel affine normalisation.
/// </summary>
public sealed class ResizedDataset : IImageDataset
{
    /// <summary>Creates the view.</summary>
    public ResizedDataset(IImageDataset source, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        Source = source;
        Height = height;
        Width = width;
    }

    /// <summary>The underlying dataset.</summary>
    public IImageDataset Source { get; }

    /// <inheritdoc />
    public int Count => Source.Count;

    /// <inheritdoc />
    public int NumClasses => Source.NumClasses;

    /// <inheritdoc />
    public int Channels => Source.Channels;

    /// <inheritdoc />
    public int Height { get; }

    /// <inheritdoc />
    public int Width { get; }

    /// <inheritdoc />
    public (Tensor Image, long Label) Get(int index)
    {
        var (image, label) = Source.Get(index);
        if (image.shape[1] == Height && image.shape[2] == Width) return (image, label);
        using var scope = NewDisposeScope();
        bool shrinking = image.shape[1] > Height || image.shape[2] > Width;
        var resized = nn.functional.interpolate(image.unsqueeze(0), size: [Height, Width],
            mode: InterpolationMode.Bilinear, align_corners: false, antialias: shrinking).squeeze(0).contiguous();
        image.Dispose();
        return (resized.MoveToOuterDisposeScope(), label);
    }
}
