using StbImageSharp;

namespace Plstm.Data.Images;

/// <summary>File formats that <see cref="ImageDecoding"/> accepts.</summary>
public enum EncodedImageFormat
{
    /// <summary>Neither PNG nor JPEG.</summary>
    Unknown,

    /// <summary>PNG (signature <c>89 50 4E 47 0D 0A 1A 0A</c>).</summary>
    Png,

    /// <summary>JPEG (starts with <c>FF D8 FF</c>).</summary>
    Jpeg,
}

/// <summary>A decoded 8-bit image: <see cref="Pixels"/> holds <c>[Height, Width, Channels]</c> interleaved, row-major.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Channels">Channels per pixel (1 gray, 3 RGB).</param>
/// <param name="Pixels">The pixels, <c>Height · Width · Channels</c> bytes.</param>
public sealed record DecodedImage(int Width, int Height, int Channels, byte[] Pixels);

/// <summary>
/// Decodes PNG and JPEG files into 8-bit pixels with StbImageSharp (a managed C# port of stb_image; no native
/// dependency). PNG: all colour types and bit depths (16-bit samples are reduced to 8 bits; alpha is dropped, not
/// composited). JPEG: baseline and progressive. Colour is converted to the requested channel count (gray from RGB
/// with stb's luma weights 77/150/29 ÷ 256; gray to RGB by repetition). The format is recognised by the file's
/// signature, not its name; anything else, and any decoding failure, is an <see cref="InvalidDataException"/> naming
/// the file. Thread-safe. The decoder is meant for trusted data sets, not hostile input.
/// </summary>
public static class ImageDecoding
{
    /// <summary>The file name extensions treated as images (lower case, with the dot).</summary>
    public static IReadOnlyList<string> SupportedExtensions { get; } = [".png", ".jpg", ".jpeg"];

    /// <summary>Whether <paramref name="path"/> has one of <see cref="SupportedExtensions"/> (case-insensitive).</summary>
    public static bool HasSupportedExtension(string path) =>
        SupportedExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>The format announced by the first bytes of <paramref name="data"/>.</summary>
    public static EncodedImageFormat DetectFormat(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (data.StartsWith(png)) return EncodedImageFormat.Png;
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return EncodedImageFormat.Jpeg;
        return EncodedImageFormat.Unknown;
    }

    /// <summary>Reads and decodes <paramref name="path"/> to <paramref name="channels"/> channels (1 or 3).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not a PNG/JPEG file, or a corrupt one (the message names the file).</exception>
    public static DecodedImage ReadFile(string path, int channels)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file '{path}' does not exist.", path);
        return Decode(File.ReadAllBytes(path), channels, path);
    }

    /// <summary>
    /// Decodes an encoded PNG/JPEG to <paramref name="channels"/> channels (1 or 3); <paramref name="source"/> names the
    /// data in error messages.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a PNG/JPEG, or corrupt.</exception>
    public static DecodedImage Decode(byte[] data, int channels, string source = "image")
    {
        ArgumentNullException.ThrowIfNull(data);
        var components = channels switch
        {
            1 => ColorComponents.Grey,
            3 => ColorComponents.RedGreenBlue,
            _ => throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images are decoded to 1 (gray) or 3 (RGB) channels."),
        };
        var format = CheckFormat(data, source);
        ImageResult result;
        try
        {
            result = ImageResult.FromMemory(data, components);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidDataException($"Image file '{source}': corrupt {Name(format)} data ({Reason(ex)}).", ex);
        }
        if (result is null || result.Width <= 0 || result.Height <= 0 || result.Data is null
            || result.Data.LongLength != (long)result.Width * result.Height * channels)
            throw new InvalidDataException($"Image file '{source}': corrupt {Name(format)} data (the decoder returned no usable image).");
        return new DecodedImage(result.Width, result.Height, channels, result.Data);
    }

    /// <summary>
    /// The size and stored channel count of <paramref name="path"/>, from its header only (cheap: the pixels are not
    /// decoded).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not a PNG/JPEG, or its header is unreadable.</exception>
    public static (int Width, int Height, int Channels) ReadInfo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file '{path}' does not exist.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        var head = new byte[8];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var format = DetectFormat(head.AsSpan(0, n));
        if (format == EncodedImageFormat.Unknown) throw NotAnImage(path, head.AsSpan(0, n));
        stream.Position = 0;
        ImageInfo? info;
        try
        {
            info = ImageInfo.FromStream(stream);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidDataException($"Image file '{path}': unreadable {Name(format)} header ({Reason(ex)}).", ex);
        }
        if (info is not { Width: > 0, Height: > 0 } i)
            throw new InvalidDataException($"Image file '{path}': unreadable {Name(format)} header.");
        return (i.Width, i.Height, (int)i.ColorComponents);
    }

    private static EncodedImageFormat CheckFormat(byte[] data, string source)
    {
        var format = DetectFormat(data);
        switch (format)
        {
            case EncodedImageFormat.Unknown:
                throw NotAnImage(source, data);
            case EncodedImageFormat.Png:
                // stb_image stops at IEND; a file cut short before it is truncated.
                if (data.AsSpan().LastIndexOf("IEND"u8) < 0)
                    throw new InvalidDataException($"Image file '{source}': truncated PNG data (no IEND chunk).");
                break;
            case EncodedImageFormat.Jpeg:
                // stb_image pads a truncated entropy-coded segment with zeros instead of failing.
                if (data.AsSpan(2).IndexOf([(byte)0xFF, (byte)0xD9]) < 0)
                    throw new InvalidDataException($"Image file '{source}': truncated JPEG data (no end-of-image marker).");
                break;
        }
        return format;
    }

    private static string Name(EncodedImageFormat format) => format == EncodedImageFormat.Png ? "PNG" : "JPEG";

    // StbImageSharp throws InvalidOperationException with stb's reason taken from a static field, which another
    // thread's decode (or an earlier failed format probe) may have set: that text can describe another file, so it is
    // left out of the message (the exception stays attached as the inner exception).
    private static string Reason(Exception ex) =>
        ex is InvalidOperationException ? "the decoder rejected it" : $"{ex.GetType().Name}: {ex.Message}";

    private static InvalidDataException NotAnImage(string source, ReadOnlySpan<byte> head) =>
        new($"Image file '{source}': not a PNG or JPEG file (starts with {(head.IsEmpty ? "nothing: the file is empty" : Convert.ToHexString(head[..Math.Min(8, head.Length)]))}).");
}
