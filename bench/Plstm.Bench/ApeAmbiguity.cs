using System.Diagnostics;
using System.Globalization;
using Plstm.Data.ArrowPointing;
using Plstm.Experiments;

namespace Plstm.Bench;

/// <summary>
/// How well can ANY classifier do on the arrow-pointing images? An estimate of the Bayes-optimal accuracy from the
/// pixels: for each image, perturbations of the arrow (centre, direction) and of the disk (centre, radius) are drawn
/// uniformly in a box around the true values and kept when they render to exactly the same pixels (arrow and disk
/// separately, by the renderer's rule: a pixel centre within W/2 of a stroke, within r of the disk centre). Each kept
/// (arrow, disk) pair is weighed by the generator's density of φ given the label — 1/(2α₁) inside the positive cone
/// (|φ − φ₀| &lt; asin((r/1.2)/D)), 1/(2π − 2α₀) outside the negative one (|φ − φ₀| ≥ asin(1.2 r / D)), nothing in the
/// gap between them, which the generator never produces — and the label posterior of the image is the weighted share of
/// each label. Bayes accuracy = mean over images of max(p, 1 − p).
/// </summary>
/// <remarks>
/// <para>Approximations, all of which make the estimate an upper bound rather than a lower one: perturbations outside
/// the box, other integer arrow lengths, and arrows that differ only under the disk are not counted as ambiguous; the
/// other parameters' prior is taken as locally uniform.</para>
/// <para><c>--ape-ambiguity [--count N] [--draws K] [--size 64|128]</c>: the ape-small test set (seed 200042 at 64 px,
/// 200043 at 128 px; objects scaled by 3). The pixel rule is checked against <see cref="ArrowPointingRenderer"/> on the
/// first 200 images before anything is estimated.</para>
/// </remarks>
public static class ApeAmbiguity
{
    private const double PositionBox = 0.6;     // ± pixels for arrow and disk centres
    private const double AngleBox = 0.35;        // ± radians for φ
    private const double RadiusBox = 0.4;        // ± pixels for r
    private const double NearBoundary = 0.45;    // radians: images farther than this from the other label are certain
    private const int Margin = 5;                // pixels around the true object's bounding box that are compared

    /// <summary>Runs the estimate; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        int count = IntArg(args, "--count", 1024);
        int draws = IntArg(args, "--draws", 20_000);
        int size = IntArg(args, "--size", 64);
        double scale = ExperimentRegistry.ApeSmallScale;
        var settings = size == 64
            ? ArrowPointingSettings.Paper(192, 200_042).Scaled(scale)
            : ArrowPointingSettings.Paper(384, 200_043).Scaled(scale);
        var generator = new ArrowPointingGenerator(settings);
        int side = settings.ImageSize;

        // The pixel rule here must be the renderer's, or nothing below means anything.
        for (int i = 0; i < Math.Min(200, count); i++)
        {
            var sample = generator.GetSample(i);
            var image = generator.Render(sample);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                {
                    bool black = ArrowPixel(ArrowPointingRenderer.Strokes(sample), sample.Width, x, y) || DiskPixel(sample.Cx, sample.Cy, sample.Radius, x, y);
                    if (black != (image[y * side + x] == ArrowPointingRenderer.Black))
                        throw new InvalidOperationException($"pixel rule differs from the renderer at image {i}, ({x}, {y})");
                }
        }

        var clock = Stopwatch.StartNew();
        var results = new ImageResult[count];
        // Only images whose φ lies within NearBoundary of the other label's region can be ambiguous: moving the arrow
        // by the box (≤ 0.6 px, 0.35 rad) cannot turn the ray by more. The others keep their label with certainty.
        Parallel.For(0, count, i =>
        {
            var s = generator.GetSample(i);
            results[i] = AngularMargin(s) > NearBoundary
                ? new ImageResult(s.Label, s.Label, 0, 0, 0, 0, Near: false)
                : Estimate(s, side, draws, seed: 1_000 + i);
        });

        double bayes = results.Average(r => Math.Max(r.P1, 1 - r.P1));
        int wrong = results.Count(r => (r.P1 > 0.5 ? 1 : 0) != r.Label && r.P1 != 0.5);
        int ambiguous = results.Count(r => r.P1 is > 0.01 and < 0.99);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv,
            $"ape-small test set at {side} px: {count} images, {draws} draws per object, {clock.Elapsed.TotalSeconds:0} s"));
        Console.WriteLine(string.Create(inv,
            $"images within {NearBoundary} rad of the other label (searched): {results.Count(r => r.Near)}"));
        results = results.Where(r => r.Near).Concat(results.Where(r => !r.Near)).ToArray();
        var near = results.Where(r => r.Near).ToArray();
        if (near.Length == 0) near = [new ImageResult(0, 0, 0, 0, 0, 0, true)];
        Console.WriteLine(string.Create(inv,
            $"kept arrows per image: median {Median(near.Select(r => (double)r.Arrows))}, min {near.Min(r => r.Arrows)}; "
            + $"kept disks: median {Median(near.Select(r => (double)r.Disks))}, min {near.Min(r => r.Disks)}"));
        Console.WriteLine(string.Create(inv,
            $"kept draws on the box's edge (last 5 %): arrows {results.Sum(r => r.ArrowsAtEdge)} of {results.Sum(r => r.Arrows)}, "
            + $"disks {results.Sum(r => r.DisksAtEdge)} of {results.Sum(r => r.Disks)}"));
        Console.WriteLine(string.Create(inv,
            $"images whose label posterior is in (0.01, 0.99): {ambiguous} ({(double)ambiguous / count:0.000})"));
        Console.WriteLine(string.Create(inv,
            $"expected Bayes accuracy (mean max posterior): {bayes:0.0000}; the Bayes decision misses the true label on "
            + $"{wrong} images ({(double)wrong / count:0.0000})"));
        return 0;
    }

    private sealed record ImageResult(int Label, double P1, int Arrows, int Disks, int ArrowsAtEdge, int DisksAtEdge,
        bool Near = true);

    /// <summary>How far φ must turn (radians) to reach the other label's region with the true positions: for a
    /// positive to leave the negative cone's complement, for a negative to enter the positive cone.</summary>
    private static double AngularMargin(ArrowPointingSample s)
    {
        double ex = s.Cx - s.Ax, ey = s.Cy - s.Ay, dist = Math.Sqrt(ex * ex + ey * ey);
        double diff = Math.Abs(Math.IEEERemainder(s.Phi - Math.Atan2(ey, ex), 2 * Math.PI));
        double alpha1 = Math.Asin(Math.Min(1, s.Radius / 1.2 / dist));
        double alpha0 = Math.Asin(Math.Min(1, 1.2 * s.Radius / dist));
        return s.Label == 1 ? alpha0 - diff : diff - alpha1;
    }

    private static ImageResult Estimate(ArrowPointingSample s, int side, int draws, int seed)
    {
        var random = new Random(seed);
        // Arrow: compare the arrow's own pixels over its bounding box plus a margin.
        var (ax0, ay0, ax1, ay1) = Box(ArrowPointingRenderer.Strokes(s).SelectMany(t => new[] { (t.X0, t.Y0), (t.X1, t.Y1) }),
            s.Width / 2.0, side);
        var strokes = ArrowPointingRenderer.Strokes(s);
        var arrowMask = Mask(ax0, ay0, ax1, ay1, (x, y) => ArrowPixel(strokes, s.Width, x, y));
        var arrows = new List<(double Ax, double Ay, double Phi, bool Edge)> { (s.Ax, s.Ay, s.Phi, false) };
        for (int k = 0; k < draws; k++)
        {
            double ux = Uniform(random), uy = Uniform(random), up = Uniform(random);
            var t = s with { Ax = s.Ax + PositionBox * ux, Ay = s.Ay + PositionBox * uy, Phi = s.Phi + AngleBox * up };
            var moved = ArrowPointingRenderer.Strokes(t);
            if (Matches(arrowMask, ax0, ay0, ax1, ay1, (x, y) => ArrowPixel(moved, t.Width, x, y)))
                arrows.Add((t.Ax, t.Ay, t.Phi, Math.Max(Math.Abs(ux), Math.Max(Math.Abs(uy), Math.Abs(up))) > 0.95));
        }

        var (dx0, dy0, dx1, dy1) = Box([(s.Cx, s.Cy)], s.Radius, side);
        var diskMask = Mask(dx0, dy0, dx1, dy1, (x, y) => DiskPixel(s.Cx, s.Cy, s.Radius, x, y));
        var disks = new List<(double Cx, double Cy, double R, bool Edge)> { (s.Cx, s.Cy, s.Radius, false) };
        for (int k = 0; k < draws; k++)
        {
            double ux = Uniform(random), uy = Uniform(random), ur = Uniform(random);
            double cx = s.Cx + PositionBox * ux, cy = s.Cy + PositionBox * uy, r = s.Radius + RadiusBox * ur;
            if (r > 0 && Matches(diskMask, dx0, dy0, dx1, dy1, (x, y) => DiskPixel(cx, cy, r, x, y)))
                disks.Add((cx, cy, r, Math.Max(Math.Abs(ux), Math.Max(Math.Abs(uy), Math.Abs(ur))) > 0.95));
        }

        // Posterior weights of the two labels over all kept pairs.
        double w1 = 0, w0 = 0;
        foreach (var a in arrows)
            foreach (var d in disks)
            {
                double ex = d.Cx - a.Ax, ey = d.Cy - a.Ay, dist = Math.Sqrt(ex * ex + ey * ey);
                double diff = Math.IEEERemainder(a.Phi - Math.Atan2(ey, ex), 2 * Math.PI);   // in [−π, π]
                double alpha1 = Math.Asin(Math.Min(1, d.R / 1.2 / dist));
                double alpha0 = Math.Asin(Math.Min(1, 1.2 * d.R / dist));
                if (Math.Abs(diff) < alpha1) w1 += 1 / (2 * alpha1);
                else if (Math.Abs(diff) >= alpha0 && alpha0 < Math.PI / 2) w0 += 1 / (2 * Math.PI - 2 * alpha0);
            }
        double p1 = w1 + w0 > 0 ? w1 / (w1 + w0) : 0.5;
        return new ImageResult(s.Label, p1, arrows.Count, disks.Count, arrows.Count(a => a.Edge), disks.Count(d => d.Edge));
    }

    private static double Uniform(Random random) => 2 * random.NextDouble() - 1;

    private static (int X0, int Y0, int X1, int Y1) Box(IEnumerable<(double X, double Y)> points, double pad, int side)
    {
        var list = points.ToList();
        int x0 = Math.Max(0, (int)Math.Floor(list.Min(p => p.X) - pad) - Margin);
        int y0 = Math.Max(0, (int)Math.Floor(list.Min(p => p.Y) - pad) - Margin);
        int x1 = Math.Min(side - 1, (int)Math.Ceiling(list.Max(p => p.X) + pad) + Margin);
        int y1 = Math.Min(side - 1, (int)Math.Ceiling(list.Max(p => p.Y) + pad) + Margin);
        return (x0, y0, x1, y1);
    }

    private static bool[] Mask(int x0, int y0, int x1, int y1, Func<int, int, bool> black)
    {
        int w = x1 - x0 + 1;
        var mask = new bool[w * (y1 - y0 + 1)];
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) mask[(y - y0) * w + x - x0] = black(x, y);
        return mask;
    }

    private static bool Matches(bool[] mask, int x0, int y0, int x1, int y1, Func<int, int, bool> black)
    {
        int w = x1 - x0 + 1;
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
                if (mask[(y - y0) * w + x - x0] != black(x, y)) return false;
        return true;
    }

    /// <summary>The renderer's stroke rule: pixel centre within W/2 of one of the three segments.</summary>
    private static bool ArrowPixel(IReadOnlyList<(double X0, double Y0, double X1, double Y1)> strokes, int width, int x, int y)
    {
        double r2 = width / 2.0 * (width / 2.0);
        for (int i = 0; i < strokes.Count; i++)
        {
            var (x0, y0, x1, y1) = strokes[i];
            double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
            double px = x - x0, py = y - y0;
            double t = len2 > 0 ? Math.Clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
            double ex = px - t * dx, ey = py - t * dy;
            if (ex * ex + ey * ey <= r2) return true;
        }
        return false;
    }

    /// <summary>The renderer's disk rule: pixel centre within r of the centre.</summary>
    private static bool DiskPixel(double cx, double cy, double r, int x, int y)
    {
        double ex = x - cx, ey = y - cy;
        return ex * ex + ey * ey <= r * r;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static int IntArg(string[] args, string name, int fallback) =>
        args.Contains(name) ? int.Parse(args[Array.IndexOf(args, name) + 1], CultureInfo.InvariantCulture) : fallback;
}
