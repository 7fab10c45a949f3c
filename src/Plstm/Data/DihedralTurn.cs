using static TorchSharp.torch;

namespace Plstm.Data;

/// <summary>
/// One of the eight symmetries of a square image, as the sequence: mirror left–right (<see cref="FlipX"/>), mirror
/// top–bottom (<see cref="FlipY"/>), then swap the axes (<see cref="Transpose"/>). Pixel-exact: each is a permutation of
/// the pixels.
/// </summary>
/// <param name="FlipX">Mirror the columns (x → S − 1 − x).</param>
/// <param name="FlipY">Mirror the rows (y → S − 1 − y).</param>
/// <param name="Transpose">Swap rows and columns (x ↔ y), after the mirrors.</param>
public readonly record struct DihedralTurn(bool FlipX, bool FlipY, bool Transpose)
{
    /// <summary>The turn that changes nothing.</summary>
    public static DihedralTurn Identity => default;

    /// <summary>Applies the turn to an image whose last two dimensions are rows and columns (<c>[…, H, W]</c>;
    /// square when <see cref="Transpose"/> is set). Returns a new tensor view or the input itself for the identity.</summary>
    public Tensor Apply(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.ndim < 2) throw new ArgumentException($"Expected an image [..., H, W]; got {image.ndim} dimension(s).", nameof(image));
        var result = image;
        if (FlipX) result = result.flip(-1);
        if (FlipY) result = result.flip(-2);
        if (Transpose) result = result.transpose(-2, -1);
        return result;
    }
}
