namespace Plstm.Data.Images;

/// <summary>
/// An 8-bit image held in memory: <see cref="Channels"/> = 1 (grayscale) or 3 (RGB), pixels row-major with the
/// channels interleaved (<c>Pixels[(y·Width + x)·Channels + c]</c>). This is what <see cref="PngWriter"/> writes and
/// <see cref="PngReader"/> returns.
/// </summary>
public sealed class PngImage
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied).</summary>
    /// <exception cref="ArgumentException">Non-positive size, unsupported channel count, or a buffer of the wrong length.</exception>
    public PngImage(int width, int height, int channels, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Only grayscale (1) and RGB (3) are supported.");
        ArgumentNullException.ThrowIfNull(pixels);
        long expected = (long)width * height * channels;
        if (pixels.Length != expected)
            throw new ArgumentException($"A {width}×{height}×{channels} image needs {expected} bytes, got {pixels.Length}.", nameof(pixels));
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>1 for grayscale, 3 for RGB.</summary>
    public int Channels { get; }

    /// <summary>Row-major, channel-interleaved 8-bit samples.</summary>
    public byte[] Pixels { get; }

    /// <summary>A grayscale image over <paramref name="pixels"/> (row-major, width·height bytes).</summary>
    public static PngImage Grayscale(int width, int height, byte[] pixels) => new(width, height, 1, pixels);
}
