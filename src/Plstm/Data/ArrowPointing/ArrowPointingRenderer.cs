namespace Plstm.Data.ArrowPointing;

/// <summary>
/// Rasterises an <see cref="ArrowPointingSample"/>: a white canvas with the arrow (shaft and two head strokes of width
/// W) and the filled disk drawn in pure black, so every pixel is exactly 0 or 255.
/// </summary>
/// <remarks>
/// <para>Pixel (x, y) — column x, row y — is treated as the point (x, y): the reference hands its coordinates to PIL,
/// for which integer coordinates are pixel centres (a line from (0, 0) to (10, 0) covers pixels 0…10).</para>
/// <para>A stroke from p to q of width W blackens every pixel whose centre lies within W/2 of the segment pq (a
/// capsule, i.e. with round caps). The disk blackens every pixel whose centre lies within r of (cx, cy).</para>
/// <para>This is a clean geometric rule, not PIL's scan conversion: PIL's wide lines are rectangles without caps and
/// its ellipse covers roughly radius r + ½, and both vary between Pillow versions. Images therefore differ from the
/// reference's by a thin rim of pixels; the geometry (and so the label) is identical. Measured black share at 192×192
/// is close to the reference's ≈ 0.0485 (see the tests).</para>
/// </remarks>
public static class ArrowPointingRenderer
{
    /// <summary>Background value.</summary>
    public const byte White = 255;

    /// <summary>Object value.</summary>
    public const byte Black = 0;

    /// <summary>
    /// Draws <paramref name="sample"/> into <paramref name="destination"/>, an <paramref name="imageSize"/>² grayscale
    /// buffer in row-major order. The buffer is fully overwritten (background first).
    /// </summary>
    /// <exception cref="ArgumentException">The buffer is smaller than imageSize².</exception>
    public static void Render(ArrowPointingSample sample, int imageSize, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 1);
        int pixels = checked(imageSize * imageSize);
        if (destination.Length < pixels)
            throw new ArgumentException($"The buffer holds {destination.Length} bytes; an image of {imageSize}² needs {pixels}.",
                nameof(destination));
        var image = destination[..pixels];
        image.Fill(White);

        foreach (var (x0, y0, x1, y1) in Strokes(sample))
            DrawStroke(image, imageSize, x0, y0, x1, y1, sample.Width / 2.0);
        DrawDisk(image, imageSize, sample.Cx, sample.Cy, sample.Radius);
    }

    /// <summary>
    /// The three strokes of the arrow as (x0, y0, x1, y1): the shaft from (a − h·u) to the tip T = a + h·u, and the
    /// two head strokes from T − k·(cos(φ ∓ ½), sin(φ ∓ ½)) to T, with u = (cos φ, sin φ), h = L div 2 and
    /// k = floor(L / 2.5), the reference's integer arithmetic (<c>al // 2</c>, <c>al // 2.5</c>).
    /// </summary>
    public static IReadOnlyList<(double X0, double Y0, double X1, double Y1)> Strokes(ArrowPointingSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        double h = sample.Length / 2;
        double k = Math.Floor(sample.Length / 2.5);
        double c = Math.Cos(sample.Phi), s = Math.Sin(sample.Phi);
        double tipX = sample.Ax + h * c, tipY = sample.Ay + h * s;
        return
        [
            (sample.Ax - h * c, sample.Ay - h * s, tipX, tipY),
            (tipX - k * Math.Cos(sample.Phi - 0.5), tipY - k * Math.Sin(sample.Phi - 0.5), tipX, tipY),
            (tipX - k * Math.Cos(sample.Phi + 0.5), tipY - k * Math.Sin(sample.Phi + 0.5), tipX, tipY),
        ];
    }

    private static void DrawStroke(Span<byte> image, int size, double x0, double y0, double x1, double y1, double halfWidth)
    {
        double r2 = halfWidth * halfWidth;
        double dx = x1 - x0, dy = y1 - y0;
        double len2 = dx * dx + dy * dy;
        // Only pixels in the capsule's bounding box can be hit.
        int xMin = Math.Max(0, (int)Math.Ceiling(Math.Min(x0, x1) - halfWidth));
        int xMax = Math.Min(size - 1, (int)Math.Floor(Math.Max(x0, x1) + halfWidth));
        int yMin = Math.Max(0, (int)Math.Ceiling(Math.Min(y0, y1) - halfWidth));
        int yMax = Math.Min(size - 1, (int)Math.Floor(Math.Max(y0, y1) + halfWidth));
        for (int y = yMin; y <= yMax; y++)
        {
            int row = y * size;
            for (int x = xMin; x <= xMax; x++)
            {
                double px = x - x0, py = y - y0;
                // Closest point of the segment: the projection parameter clamped to [0, 1] (a point for len = 0).
                double t = len2 > 0 ? Math.Clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
                double ex = px - t * dx, ey = py - t * dy;
                if (ex * ex + ey * ey <= r2) image[row + x] = Black;
            }
        }
    }

    private static void DrawDisk(Span<byte> image, int size, double cx, double cy, double radius)
    {
        double r2 = radius * radius;
        int xMin = Math.Max(0, (int)Math.Ceiling(cx - radius));
        int xMax = Math.Min(size - 1, (int)Math.Floor(cx + radius));
        int yMin = Math.Max(0, (int)Math.Ceiling(cy - radius));
        int yMax = Math.Min(size - 1, (int)Math.Floor(cy + radius));
        for (int y = yMin; y <= yMax; y++)
        {
            int row = y * size;
            double ey = y - cy;
            for (int x = xMin; x <= xMax; x++)
            {
                double ex = x - cx;
                if (ex * ex + ey * ey <= r2) image[row + x] = Black;
            }
        }
    }
}
