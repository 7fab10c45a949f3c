namespace Plstm.Data.ArrowPointing;

/// <summary>
/// The parameters of one arrow-pointing sample, in image coordinates with the padding already added
/// (x = column, y = row, growing downwards; angles in radians, measured from +x towards +y).
/// </summary>
/// <param name="Index">Index of the sample in its dataset.</param>
/// <param name="Label">1 when the arrow points at the circle, else 0.</param>
/// <param name="Length">Arrow length L in pixels (an integer, as in the reference).</param>
/// <param name="Width">Stroke width W in pixels (an integer ≥ 1).</param>
/// <param name="Ax">Arrow centre x.</param>
/// <param name="Ay">Arrow centre y.</param>
/// <param name="Phi">Arrow direction φ (not reduced to a canonical interval, as in the reference).</param>
/// <param name="Cx">Circle centre x.</param>
/// <param name="Cy">Circle centre y.</param>
/// <param name="Radius">Circle radius r.</param>
public sealed record ArrowPointingSample(
    long Index,
    int Label,
    int Length,
    int Width,
    double Ax,
    double Ay,
    double Phi,
    double Cx,
    double Cy,
    double Radius);
