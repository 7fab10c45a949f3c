namespace Plstm.Models;

/// <summary>How a vision model turns its final feature map into one vector per image (models §6.3 step 4).</summary>
public enum VisionPooling
{
    /// <summary>
    /// Concatenation of the four corner patches in the order (0,0), (X−1,0), (0,Y−1), (X−1,Y−1): <c>[B, 4D]</c>.
    /// The pLSTM default: each corner is where one of the four scan orientations has seen the whole image.
    /// </summary>
    Corners,

    /// <summary>The centre patch (X/2, Y/2) of the actual grid: <c>[B, D]</c>.</summary>
    Center,

    /// <summary>Mean over all patches: <c>[B, D]</c>.</summary>
    Mean,

    /// <summary>Sum over all patches: <c>[B, D]</c>.</summary>
    Sum,

    /// <summary>
    /// A learnable class token is prepended to the flattened patch sequence and its final feature is used:
    /// <c>[B, D]</c>. The ViT default; not available for pLSTM models (their layers need the 2D grid).
    /// </summary>
    Cls,
}
