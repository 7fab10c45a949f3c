namespace Plstm.Training;

/// <summary>
/// The random choices of <see cref="RandomCropFlip"/> for one batch: per sample, where the crop window starts in the
/// padded image and whether the crop is mirrored left–right.
/// </summary>
/// <param name="Top">Per sample: first row of the window in the padded image, in <c>[0, 2·padding]</c>; <c>padding</c>
/// is the unshifted image.</param>
/// <param name="Left">Per sample: first column of the window in the padded image, in <c>[0, 2·padding]</c>.</param>
/// <param name="Flip">Per sample: mirror the cropped window along the width.</param>
public sealed record CropFlipDecision(IReadOnlyList<int> Top, IReadOnlyList<int> Left, IReadOnlyList<bool> Flip)
{
    /// <summary>Number of samples.</summary>
    public int Count => Top.Count;
}
