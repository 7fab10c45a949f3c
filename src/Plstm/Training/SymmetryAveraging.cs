using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Test-time augmentation by symmetry: a classifier's class probabilities averaged over symmetric views of each image
/// (<see cref="TestTimeAugmentation"/>). The average is of probabilities, not logits, so a view the model is sure about
/// cannot be outvoted by the size of another view's logits; it is returned as its logarithm, which serves as logits
/// for arg-max, softmax and cross-entropy.
/// </summary>
public static class SymmetryAveraging
{
    /// <summary>Number of views of <paramref name="kind"/>: 1, 4 or 8.</summary>
    public static int ViewCount(TestTimeAugmentation kind) => kind switch
    {
        TestTimeAugmentation.None => 1,
        TestTimeAugmentation.Flips => 4,
        TestTimeAugmentation.Dihedral => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown test-time augmentation."),
    };

    /// <summary>
    /// View <paramref name="index"/> (0 = the images as given) of planar images <c>[N, C, H, W]</c>: bit 2 transposes
    /// H and W, then bit 0 mirrors left–right and bit 1 top–bottom. Indices 0–3 are <see cref="TestTimeAugmentation.Flips"/>,
    /// 0–7 <see cref="TestTimeAugmentation.Dihedral"/> (all eight distinct symmetries of the square).
    /// </summary>
    /// <exception cref="ArgumentException">Not 4-D, an index outside 0–7, or a transposing view of non-square images.</exception>
    public static Tensor View(Tensor images, int index)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.ndim != 4)
            throw new ArgumentException($"Expected planar images [N, C, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (index is < 0 or > 7) throw new ArgumentOutOfRangeException(nameof(index), index, "A view index is 0–7.");
        var x = images;
        if ((index & 4) != 0)
        {
            if (images.shape[2] != images.shape[3])
                throw new ArgumentException(
                    $"The d4 test-time augmentation transposes images and needs square ones; got {images.shape[2]}×{images.shape[3]} (use flips).",
                    nameof(images));
            x = x.transpose(2, 3);
        }
        if ((index & 1) != 0) x = x.flip(3);
        if ((index & 2) != 0) x = x.flip(2);
        return x;
    }

    /// <summary>
    /// Logits whose softmax is the class probabilities of <paramref name="classify"/> averaged over the views of
    /// <paramref name="kind"/>: <c>log(mean_v softmax(classify(view_v(images))))</c>, <c>[N, classes]</c>. With
    /// <see cref="TestTimeAugmentation.None"/> the classifier's own logits, unchanged.
    /// </summary>
    /// <param name="classify">Planar images <c>[N, C, H, W]</c> (contiguous) → logits <c>[N, classes]</c>.</param>
    /// <param name="images">Planar images <c>[N, C, H, W]</c>.</param>
    /// <param name="kind">The views.</param>
    public static Tensor Logits(Func<Tensor, Tensor> classify, Tensor images, TestTimeAugmentation kind)
    {
        ArgumentNullException.ThrowIfNull(classify);
        ArgumentNullException.ThrowIfNull(images);
        int views = ViewCount(kind);
        if (views == 1) return classify(images);
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (int v = 0; v < views; v++)
        {
            // Each view is copied contiguous: the models' patch embeddings expect ordinary strides.
            var view = View(images, v).contiguous();
            var logits = classify(view);
            // Half-precision logits are averaged in float32; float32 and float64 keep their type.
            if (logits.dtype is ScalarType.BFloat16 or ScalarType.Float16) logits = logits.to_type(ScalarType.Float32);
            var probabilities = nn.functional.softmax(logits, 1);
            sum = sum is null ? probabilities : sum.add_(probabilities);
        }
        return sum!.div_(views).log_().MoveToOuterDisposeScope();
    }
}
