using Plstm.Data.Random;

namespace Plstm.Data.ArrowPointing;

/// <summary>
/// Draws arrow-pointing samples exactly as the paper's reference generator (ml-jku/arrow_pointing_dataset, PIL
/// version) does, and rasterises them. Every index is independent: sample i uses a numpy generator seeded with
/// <c>master + i</c>, where <c>master = default_rng(seed).integers(2**62)</c>, so any index can be produced alone, in
/// any order, on any thread, with the same result.
/// </summary>
public sealed class ArrowPointingGenerator
{
    /// <summary>Creates a generator; the settings are validated here so that sampling never fails later.</summary>
    /// <exception cref="ArgumentException">The settings are invalid (see <see cref="ArrowPointingSettings.Validate"/>).</exception>
    public ArrowPointingGenerator(ArrowPointingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        MasterSeed = ComputeMasterSeed(settings.Seed);
    }

    /// <summary>The settings this generator samples from.</summary>
    public ArrowPointingSettings Settings { get; }

    /// <summary>The per-dataset master seed, <c>default_rng(Seed).integers(2**62)</c>.</summary>
    public ulong MasterSeed { get; }

    /// <summary>numpy's <c>default_rng(seed).integers(1 &lt;&lt; 62)</c>, the master seed of a dataset.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seed"/> is negative.</exception>
    public static ulong ComputeMasterSeed(long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        return new Pcg64((ulong)seed).Integers(1UL << 62);
    }

    /// <summary>
    /// The parameters of sample <paramref name="index"/>. Nine uniform draws u0..u8 of the sample's generator give,
    /// in this order: the label, L, W, the arrow centre (x, y), r, the circle centre (x, y) and the direction.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public ArrowPointingSample GetSample(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var s = Settings;
        var rng = new Pcg64(unchecked(MasterSeed + (ulong)index));

        // The reference calls rng.uniform(0, 1) for the label and rng.uniform(min, max) for L and W; uniform(lo, hi)
        // is lo + (hi − lo)·random(), so the expressions below reproduce its doubles exactly.
        bool positive = rng.Uniform(0, 1) < s.LabelRatio;
        int length = Math.Max(1, (int)rng.Uniform(s.LengthMin, s.LengthMax));
        // W ≥ 1 only matters for the scaled variant (paper widths are 2 or 3); a zero width would draw nothing.
        int width = Math.Max(1, (int)rng.Uniform(s.WidthMin, s.WidthMax));

        double span = s.Span;
        double ax = span * rng.NextDouble();
        // The reference scales y by the x-span as well; both spans are equal for the square images used here.
        double ay = span * rng.NextDouble();
        double r = s.RadiusMin + (s.RadiusMax - s.RadiusMin) * rng.NextDouble();

        // The circle centre is d·r to (s − d·r) ahead of the arrow centre along each axis, wrapped back into the span
        // when it runs past it; either way |c − a| ≥ d·r along each axis.
        double offset = s.DistanceFactor * r;
        double window = span - 2 * offset;
        double cx = ax + offset + window * rng.NextDouble();
        cx = cx > span ? cx - span : cx;
        double cy = ay + offset + window * rng.NextDouble();
        cy = cy > span ? cy - span : cy;

        double dx = cx - ax, dy = cy - ay;
        double rd = positive ? r / s.IntersectionFactor : s.IntersectionFactor * r;
        // Half-angle α = asin(rd / D) of the cone of rays that pass within rd of the circle centre, computed as the
        // reference does (acos of sqrt((D² − rd²)/D²)) so that φ agrees with it to the last bits.
        double d2 = dx * dx + dy * dy;
        double alpha = Math.Acos(Math.Sqrt(Math.Abs((d2 - rd * rd) / d2)));
        double phi0 = Math.Atan2(dy, dx);
        // Positives point into the cone [φ0 − α, φ0 + α]; negatives anywhere outside it.
        double phiRange = positive ? 2 * alpha : 2 * Math.PI - 2 * alpha;
        double dphi = rng.NextDouble() * phiRange;
        double phi = phi0 + dphi + (positive ? -alpha : alpha);

        return new ArrowPointingSample(index, positive ? 1 : 0, length, width,
            ax + s.Padding, ay + s.Padding, phi, cx + s.Padding, cy + s.Padding, r);
    }

    /// <summary>Renders sample <paramref name="index"/>: see <see cref="Render(ArrowPointingSample)"/>.</summary>
    public byte[] Render(long index) => Render(GetSample(index));

    /// <summary>
    /// Rasterises a sample into a new S×S grayscale image (row-major, row = y), 255 = white background, 0 = black
    /// objects; see <see cref="ArrowPointingRenderer"/> for the exact pixel rules.
    /// </summary>
    public byte[] Render(ArrowPointingSample sample)
    {
        var image = new byte[Settings.ImageSize * Settings.ImageSize];
        ArrowPointingRenderer.Render(sample, Settings.ImageSize, image);
        return image;
    }
}
