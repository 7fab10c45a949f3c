using System.Buffers.Binary;
using System.IO.Compression;

namespace Plstm.Data.Images;

/// <summary>
/// A minimal PNG encoder for 8-bit grayscale or RGB images (non-interlaced, filter type 0 on every row), so that
/// generated datasets can be written without a native image library. The output is a standard PNG that any viewer
/// or Python (PIL, imageio) reads.
/// </summary>
public static class PngWriter
{
    /// <summary>The 8-byte PNG signature.</summary>
    internal static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="image"/> as a complete PNG file in memory.</summary>
    public static byte[] Encode(PngImage image, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var buffer = new MemoryStream();
        Write(buffer, image, level);
        return buffer.ToArray();
    }

    /// <summary>Writes <paramref name="image"/> as PNG to <paramref name="stream"/> (left open).</summary>
    public static void Write(Stream stream, PngImage image, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(image);
        stream.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], image.Height);
        header[8] = 8;                                  // bit depth
        header[9] = (byte)(image.Channels == 1 ? 0 : 2); // colour type: grayscale or truecolour
        header[10] = 0;                                 // compression: deflate
        header[11] = 0;                                 // filter method 0
        header[12] = 0;                                 // no interlace
        WriteChunk(stream, "IHDR"u8, header);

        // Each scanline is a filter-type byte (0 = None) followed by the row's bytes; the whole sequence is one zlib
        // stream, which we store in a single IDAT chunk (the images here are small).
        int rowBytes = image.Width * image.Channels;
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, level, leaveOpen: true))
        {
            for (int y = 0; y < image.Height; y++)
            {
                zlib.WriteByte(0);
                zlib.Write(image.Pixels, y * rowBytes, rowBytes);
            }
        }
        WriteChunk(stream, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(stream, "IEND"u8, []);
    }

    /// <summary>
    /// Writes <paramref name="image"/> to <paramref name="path"/> atomically (temporary file, then rename): a reader
    /// never sees a partly written PNG.
    /// </summary>
    public static void WriteFile(string path, PngImage image, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(image);
        byte[] bytes = Encode(image, level);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    private static void WriteChunk(Stream stream, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        stream.Write(type);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, PngCrc32.OfChunk(type, data));
        stream.Write(word);
    }
}
