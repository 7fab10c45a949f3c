using Plstm.Data.ArrowPointing;

namespace Plstm.Tests.Data;

/// <summary>
/// Sample parameters against the reference generator (values and properties from
/// <c>/work/shared/spec/arrow_pointing.md</c>).
/// </summary>
public class ArrowPointingGeneratorTests
{
    private const double ReferenceTolerance = 1e-6; // the spec prints six decimals

    private static readonly ArrowPointingGenerator Seed42 = new(ArrowPointingSettings.Paper(192, 42));

    [Fact]
    public void Master_seed_is_numpy_integers_2_pow_62()
    {
        Assert.Equal(3569242288002845090UL, Seed42.MasterSeed);
    }

    [Theory]
    [InlineData(0, 1, 29, 2, 33.841525, 128.247763, -0.748074, 100.735282, 71.325894, 23.196262)]
    [InlineData(2, 0, 16, 3, 79.80864, 54.624123, 6.287849, 139.931278, 128.986573, 22.694869)]
    public void Reference_samples_of_seed_42(long index, int label, int length, int width,
        double ax, double ay, double phi, double cx, double cy, double r)
    {
        var s = Seed42.GetSample(index);
        Assert.Equal(index, s.Index);
        Assert.Equal(label, s.Label);
        Assert.Equal(length, s.Length);
        Assert.Equal(width, s.Width);
        Assert.Equal(ax, s.Ax, ReferenceTolerance);
        Assert.Equal(ay, s.Ay, ReferenceTolerance);
        Assert.Equal(phi, s.Phi, ReferenceTolerance);
        Assert.Equal(cx, s.Cx, ReferenceTolerance);
        Assert.Equal(cy, s.Cy, ReferenceTolerance);
        Assert.Equal(r, s.Radius, ReferenceTolerance);
    }

    [Fact]
    public void Samples_are_independent_of_order_and_instance()
    {
        var other = new ArrowPointingGenerator(ArrowPointingSettings.Paper(192, 42));
        Assert.Equal(Seed42.GetSample(1234), other.GetSample(1234));
        Assert.Equal(Seed42.GetSample(7), other.GetSample(7));
        Assert.NotEqual(Seed42.GetSample(7), Seed42.GetSample(8));
    }

    [Fact]
    public void Label_geometry_holds_on_10000_samples()
    {
        const double eps = 1e-9;
        for (int i = 0; i < 10_000; i++)
        {
            var s = Seed42.GetSample(i);
            double dx = s.Cx - s.Ax, dy = s.Cy - s.Ay;
            double d = Math.Sqrt(dx * dx + dy * dy);
            // Angle between the arrow's direction and the direction to the circle, in (−π, π].
            double deviation = Math.IEEERemainder(s.Phi - Math.Atan2(dy, dx), 2 * Math.PI);
            bool forward = Math.Cos(deviation) > 0;
            double missDistance = d * Math.Abs(Math.Sin(deviation)); // ray's closest approach to the centre
            if (s.Label == 1)
            {
                Assert.True(forward && missDistance <= s.Radius / 1.2 + eps,
                    $"sample {i}: label 1 but the ray passes {missDistance} from the centre (r/1.2 = {s.Radius / 1.2}).");
            }
            else
            {
                Assert.True(!forward || missDistance >= 1.2 * s.Radius - eps,
                    $"sample {i}: label 0 but the ray passes {missDistance} from the centre (1.2r = {1.2 * s.Radius}).");
            }
        }
    }

    [Fact]
    public void Placement_properties_hold_on_10000_samples()
    {
        // The spec's |cx − ax| ≥ 2r and |cy − ay| ≥ 2r survive the wrap-around: a wrapped centre lies at
        // c − a ∈ [2r − s, −2r), so the distance along each axis is still at least 2r.
        int size = Seed42.Settings.ImageSize;
        int wrapped = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var s = Seed42.GetSample(i);
            double r = s.Radius;
            Assert.True(Math.Abs(s.Cx - s.Ax) >= 2 * r - 1e-9, $"sample {i}: |cx − ax| < 2r");
            Assert.True(Math.Abs(s.Cy - s.Ay) >= 2 * r - 1e-9, $"sample {i}: |cy − ay| < 2r");
            if (s.Cx < s.Ax || s.Cy < s.Ay) wrapped++;
            // The disk lies inside the image, the arrow centre inside the padded span.
            Assert.True(s.Cx - r >= 0 && s.Cx + r <= size && s.Cy - r >= 0 && s.Cy + r <= size, $"sample {i}: disk leaves the image");
            Assert.InRange(s.Ax, 30.0, size - 30.0);
            Assert.InRange(s.Ay, 30.0, size - 30.0);
            // Objects never overlap: every stroke (a capsule of radius W/2) stays outside the disk.
            foreach (var (x0, y0, x1, y1) in ArrowPointingRenderer.Strokes(s))
                Assert.True(SegmentDistance(s.Cx, s.Cy, x0, y0, x1, y1) > r + s.Width / 2.0, $"sample {i}: arrow touches the disk");
        }
        Assert.True(wrapped > 1000, "the wrap-around branch should be exercised"); // both branches are tested
    }

    [Fact]
    public void Positive_share_matches_the_reference_on_its_2000_samples()
    {
        // The spec's shares (0.4785, 0.5155, 0.4930) are those of the first 2,000 samples of each seed.
        Assert.Equal(957, PositiveCount(Seed42, 2000));
        Assert.Equal(1031, PositiveCount(new ArrowPointingGenerator(ArrowPointingSettings.Paper(192, 100042)), 2000));
        Assert.Equal(986, PositiveCount(new ArrowPointingGenerator(ArrowPointingSettings.Paper(384, 100043)), 2000));
        // Over 10,000 the share is within binomial noise of 0.5 (σ = 0.005; measured 0.4956).
        Assert.InRange(PositiveCount(Seed42, 10_000) / 10_000.0, 0.485, 0.515);
    }

    [Fact]
    public void Length_width_and_radius_distributions()
    {
        const int n = 10_000;
        var lengths = new int[30];
        int width2 = 0;
        double radiusSum = 0;
        for (int i = 0; i < n; i++)
        {
            var s = Seed42.GetSample(i);
            Assert.InRange(s.Length, 15, 29);
            Assert.InRange(s.Width, 2, 3);
            Assert.True(s.Radius >= 15 && s.Radius < 30);
            lengths[s.Length]++;
            if (s.Width == 2) width2++;
            radiusSum += s.Radius;
        }
        // Pearson χ² against uniform on 15..29 (14 degrees of freedom; 36.1 is the 0.1% critical value).
        double expected = n / 15.0;
        double chi2 = lengths.Skip(15).Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chi2 < 36.1, $"χ² = {chi2} for L");
        Assert.InRange(width2 / (double)n, 0.485, 0.515);
        Assert.InRange(radiusSum / n, 22.5 - 0.15, 22.5 + 0.15); // σ of the mean ≈ 0.043
    }

    [Fact]
    public void Centre_distances_match_the_reference_ranges()
    {
        var (min192, mean192, max192) = CentreDistances(Seed42, 20_000);
        Assert.InRange(min192, 2 * Math.Sqrt(2) * 15, 55);
        Assert.InRange(mean192, 88, 92); // spec ≈ 90 (measured 90.5)
        Assert.InRange(max192, 130, 142); // spec 136–142 (measured 137.8)
        var (_, mean384, max384) = CentreDistances(new ArrowPointingGenerator(ArrowPointingSettings.Paper(384, 100043)), 20_000);
        Assert.InRange(mean384, 195, 203); // spec ≈ 199 (measured 198.2)
        Assert.InRange(max384, 380, 410);  // spec ≈ 400 (measured 403.1)
    }

    [Fact]
    public void Scaled_variant_shrinks_geometry_and_keeps_labels()
    {
        var paper = ArrowPointingSettings.Paper(192, 42);
        var scaled = paper.Scaled(4);
        Assert.Equal(48, scaled.ImageSize);
        Assert.Equal(7.5, scaled.Padding);
        Assert.Equal((3.75, 7.5), (scaled.RadiusMin, scaled.RadiusMax));
        Assert.Equal((3.75, 7.5), (scaled.LengthMin, scaled.LengthMax));
        Assert.Equal((0.5, 1.0), (scaled.WidthMin, scaled.WidthMax));
        Assert.Equal((2.0, 1.2, 0.5, 42L), (scaled.DistanceFactor, scaled.IntersectionFactor, scaled.LabelRatio, scaled.Seed));

        var small = new ArrowPointingGenerator(scaled);
        for (int i = 0; i < 500; i++)
        {
            var a = Seed42.GetSample(i);
            var b = small.GetSample(i);
            Assert.Equal(a.Label, b.Label);
            Assert.Equal(1, b.Width); // floor(0.5 + 0.5u) = 0, raised to 1
            Assert.InRange(b.Length, 3, 7);
            Assert.Equal(a.Phi, b.Phi, 1e-9);
            Assert.Equal(a.Ax / 4, b.Ax, 1e-9);
            Assert.Equal(a.Cy / 4, b.Cy, 1e-9);
            Assert.Equal(a.Radius / 4, b.Radius, 1e-9);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => paper.Scaled(5));   // 192 / 5 is not whole
        Assert.Throws<ArgumentOutOfRangeException>(() => paper.Scaled(0.5)); // factors below 1 are refused
    }

    [Fact]
    public void Invalid_settings_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new ArrowPointingGenerator(ArrowPointingSettings.Paper(96, 42))); // span 36 < 4·30
        Assert.Throws<ArgumentException>(() => new ArrowPointingGenerator(ArrowPointingSettings.Paper() with { Seed = -1 }));
        Assert.Throws<ArgumentException>(() => new ArrowPointingGenerator(ArrowPointingSettings.Paper() with { LabelRatio = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Seed42.GetSample(-1));
    }

    [Fact]
    public void Splits_carry_the_paper_table()
    {
        Assert.Equal(new ArrowPointingSplit("train", 100_000, 192, 43), ArrowPointingSplit.Train(43));
        Assert.Equal((5_120L, 192, 100_042L), (ArrowPointingSplit.Validation.Count, ArrowPointingSplit.Validation.ImageSize, ArrowPointingSplit.Validation.Seed));
        Assert.Equal((5_120L, 384, 100_043L), (ArrowPointingSplit.ValidationExtrapolation.Count, ArrowPointingSplit.ValidationExtrapolation.ImageSize, ArrowPointingSplit.ValidationExtrapolation.Seed));
        Assert.Equal((10_240L, 192, 200_042L), (ArrowPointingSplit.Test.Count, ArrowPointingSplit.Test.ImageSize, ArrowPointingSplit.Test.Seed));
        Assert.Equal((10_240L, 384, 200_043L), (ArrowPointingSplit.TestExtrapolation.Count, ArrowPointingSplit.TestExtrapolation.ImageSize, ArrowPointingSplit.TestExtrapolation.Seed));
        Assert.Equal(96, ArrowPointingSplit.TestExtrapolation.Settings(4).ImageSize);
    }

    private static int PositiveCount(ArrowPointingGenerator generator, int n)
    {
        int positives = 0;
        for (int i = 0; i < n; i++) positives += generator.GetSample(i).Label;
        return positives;
    }

    private static (double Min, double Mean, double Max) CentreDistances(ArrowPointingGenerator generator, int n)
    {
        double min = double.MaxValue, max = 0, sum = 0;
        for (int i = 0; i < n; i++)
        {
            var s = generator.GetSample(i);
            double d = Math.Sqrt((s.Cx - s.Ax) * (s.Cx - s.Ax) + (s.Cy - s.Ay) * (s.Cy - s.Ay));
            min = Math.Min(min, d);
            max = Math.Max(max, d);
            sum += d;
        }
        return (min, sum / n, max);
    }

    internal static double SegmentDistance(double px, double py, double x0, double y0, double x1, double y1)
    {
        double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
        double t = len2 > 0 ? Math.Clamp(((px - x0) * dx + (py - y0) * dy) / len2, 0, 1) : 0;
        double ex = px - x0 - t * dx, ey = py - y0 - t * dy;
        return Math.Sqrt(ex * ex + ey * ey);
    }
}
