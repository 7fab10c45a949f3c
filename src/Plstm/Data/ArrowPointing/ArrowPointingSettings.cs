namespace Plstm.Data.ArrowPointing;

/// <summary>
/// Parameters of the arrow-pointing extrapolation (APE) generator; the defaults are the paper's settings at 192×192
/// (<c>/work/shared/spec/arrow_pointing.md</c>, ml-jku/arrow_pointing_dataset). Ranges are half-open
/// <c>[min, max)</c> and sampled as <c>min + (max − min)·u</c>; arrow length and width are truncated to integers.
/// </summary>
/// <param name="ImageSize">Side S of the square image in pixels.</param>
/// <param name="Padding">Padding P: object centres lie in <c>[P, S − P]</c>.</param>
/// <param name="RadiusMin">Smallest circle radius (inclusive).</param>
/// <param name="RadiusMax">Largest circle radius (exclusive).</param>
/// <param name="LengthMin">Arrow length range start; L = floor(LengthMin + (LengthMax − LengthMin)·u).</param>
/// <param name="LengthMax">Arrow length range end (exclusive).</param>
/// <param name="WidthMin">Stroke width range start; W = floor(WidthMin + (WidthMax − WidthMin)·u), at least 1.</param>
/// <param name="WidthMax">Stroke width range end (exclusive).</param>
/// <param name="DistanceFactor">The circle centre is at least DistanceFactor·r from the arrow centre along x and along y.</param>
/// <param name="IntersectionFactor">
/// Margin f: a positive arrow's ray passes within r/f of the circle centre, a negative one stays at least f·r away.
/// </param>
/// <param name="LabelRatio">Probability of label 1.</param>
/// <param name="Seed">Dataset seed (numpy seed of the master generator); non-negative.</param>
public sealed record ArrowPointingSettings(
    int ImageSize = 192,
    double Padding = 30,
    double RadiusMin = 15,
    double RadiusMax = 30,
    double LengthMin = 15,
    double LengthMax = 30,
    double WidthMin = 2,
    double WidthMax = 4,
    double DistanceFactor = 2.0,
    double IntersectionFactor = 1.2,
    double LabelRatio = 0.5,
    long Seed = 42)
{
    /// <summary>Usable span s = S − 2P in which the (unpadded) centres are drawn.</summary>
    public double Span => ImageSize - 2 * Padding;

    /// <summary>The paper's settings for an image of <paramref name="imageSize"/> pixels and the given seed.</summary>
    public static ArrowPointingSettings Paper(int imageSize = 192, long seed = 42) =>
        new() { ImageSize = imageSize, Seed = seed };

    /// <summary>
    /// The CPU-scale variant: S, P, the radius range, the length range and the width range divided by
    /// <paramref name="factor"/>; the distance and intersection factors, the label ratio and the seed stay the same
    /// (so sample i of the scaled dataset is sample i of the original, shrunk). Widths (and lengths) below 1 are raised
    /// to 1 when a sample is drawn (<see cref="ArrowPointingGenerator.GetSample"/>), so strokes never vanish.
    /// </summary>
    /// <param name="factor">The common divisor, ≥ 1; S / factor must be a whole number.</param>
    /// <exception cref="ArgumentOutOfRangeException">The factor is not ≥ 1 or does not divide S.</exception>
    public ArrowPointingSettings Scaled(double factor)
    {
        if (!double.IsFinite(factor) || factor < 1)
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The scale factor must be a finite number ≥ 1.");
        double size = ImageSize / factor;
        int roundedSize = (int)Math.Round(size);
        // A non-integral image side would silently change the geometry (span, padding ratio): refuse it instead.
        if (Math.Abs(size - roundedSize) > 1e-9 * Math.Max(1.0, size) || roundedSize < 1)
            throw new ArgumentOutOfRangeException(nameof(factor), factor,
                $"The scale factor must divide the image size {ImageSize} into a whole number of pixels (got {size}).");
        return this with
        {
            ImageSize = roundedSize,
            Padding = Padding / factor,
            RadiusMin = RadiusMin / factor,
            RadiusMax = RadiusMax / factor,
            LengthMin = LengthMin / factor,
            LengthMax = LengthMax / factor,
            WidthMin = WidthMin / factor,
            WidthMax = WidthMax / factor,
        };
    }

    /// <summary>Checks that the settings describe a drawable dataset.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition) throw new ArgumentException(message);
        }

        Require(ImageSize >= 1, $"ImageSize must be ≥ 1 (got {ImageSize}).");
        Require(double.IsFinite(Padding) && Padding >= 0, $"Padding must be ≥ 0 (got {Padding}).");
        Require(Span > 0, $"The span S − 2P must be positive (S = {ImageSize}, P = {Padding}).");
        Require(double.IsFinite(RadiusMin) && RadiusMin > 0 && RadiusMax >= RadiusMin && double.IsFinite(RadiusMax),
            $"The radius range must satisfy 0 < min ≤ max (got [{RadiusMin}, {RadiusMax})).");
        Require(double.IsFinite(LengthMin) && LengthMin >= 0 && LengthMax >= LengthMin && double.IsFinite(LengthMax),
            $"The length range must satisfy 0 ≤ min ≤ max (got [{LengthMin}, {LengthMax})).");
        Require(double.IsFinite(WidthMin) && WidthMin >= 0 && WidthMax >= WidthMin && double.IsFinite(WidthMax),
            $"The width range must satisfy 0 ≤ min ≤ max (got [{WidthMin}, {WidthMax})).");
        Require(double.IsFinite(DistanceFactor) && DistanceFactor >= 0,
            $"DistanceFactor must be ≥ 0 (got {DistanceFactor}).");
        // The circle's window s − 2·d·r must not be negative, or cx could fall outside the span.
        Require(Span - 2 * DistanceFactor * RadiusMax >= 0,
            $"The span {Span} is too small for DistanceFactor {DistanceFactor} and radius {RadiusMax} (needs ≥ {2 * DistanceFactor * RadiusMax}).");
        Require(double.IsFinite(IntersectionFactor) && IntersectionFactor >= 1,
            $"IntersectionFactor must be ≥ 1 (got {IntersectionFactor}).");
        Require(LabelRatio is >= 0 and <= 1, $"LabelRatio must lie in [0, 1] (got {LabelRatio}).");
        Require(Seed >= 0, $"Seed must be non-negative, as numpy requires (got {Seed}).");
    }
}
