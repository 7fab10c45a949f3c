using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Plstm.Data.Images;

/// <summary>
/// A minimal PNG decoder for the files this project writes and similar simple ones: 8-bit grayscale or RGB,
/// non-interlaced, any of the five row filters, any number of IDAT chunks. Chunk CRCs are verified. Anything else
/// (palette, alpha, 16-bit, interlaced) is rejected with an <see cref="InvalidDataException"/> rather than guessed at.
/// </summary>
public static class PngReader
{
    // Upper bound on the decoded size, so that a corrupt header cannot make us allocate gigabytes.
    private const long MaxPixelBytes = 1L << 30;

    /// <summary>Reads and decodes the PNG file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a PNG this reader supports, or it is corrupt.</exception>
    public static PngImage ReadFile(string path) => Decode(File.ReadAllBytes(path));

    /// <summary>Decodes a whole PNG file held in memory.</summary>
    /// <exception cref="InvalidDataException">The data is not a PNG this reader supports, or it is corrupt.</exception>
    public static PngImage Decode(ReadOnlySpan<byte> png)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(PngWriter.Signature))
            throw new InvalidDataException("Not a PNG file (bad signature).");

        int width = 0, height = 0, channels = 0;
        bool seenHeader = false, seenEnd = false;
        using var idat = new MemoryStream();
        int pos = 8;
        while (!seenEnd)
        {
            if (png.Length - pos < 12)
                throw new InvalidDataException("Truncated PNG: missing IEND chunk.");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (length > int.MaxValue || length > png.Length - pos - 12)
                throw new InvalidDataException($"Truncated or corrupt PNG chunk at byte {pos} (length {length}).");
            var type = png.Slice(pos + 4, 4);
            var data = png.Slice(pos + 8, (int)length);
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            string typeName = Encoding.ASCII.GetString(type);
            if (PngCrc32.OfChunk(type, data) != storedCrc)
                throw new InvalidDataException($"CRC mismatch in PNG chunk {typeName} at byte {pos}.");
            pos += 12 + (int)length;

            if (!seenHeader && typeName != "IHDR")
                throw new InvalidDataException($"The first PNG chunk must be IHDR, got {typeName}.");
            switch (typeName)
            {
                case "IHDR":
                    if (seenHeader) throw new InvalidDataException("Duplicate IHDR chunk.");
                    (width, height, channels) = ParseHeader(data);
                    seenHeader = true;
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    seenEnd = true;
                    break;
                default:
                    // Bit 5 of the first type byte marks ancillary chunks (text, gamma, …), which may be skipped;
                    // an unknown critical chunk (e.g. PLTE for a palette image) changes the meaning of the pixels.
                    if ((type[0] & 0x20) == 0)
                        throw new InvalidDataException($"Unsupported critical PNG chunk {typeName}.");
                    break;
            }
        }
        if (idat.Length == 0) throw new InvalidDataException("The PNG has no image data (IDAT).");

        long rowBytes = (long)width * channels;
        long pixelBytes = rowBytes * height;
        if (pixelBytes > MaxPixelBytes)
            throw new InvalidDataException($"The PNG is too large to decode here ({width}×{height}×{channels}).");
        var raw = new byte[(rowBytes + 1) * height];
        idat.Position = 0;
        try
        {
            using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
            zlib.ReadExactly(raw);
        }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException)
        {
            throw new InvalidDataException($"Corrupt or truncated PNG image data: {ex.Message}", ex);
        }

        var pixels = new byte[pixelBytes];
        Unfilter(raw, pixels, (int)rowBytes, height, channels);
        return new PngImage(width, height, channels, pixels);
    }

    private static (int Width, int Height, int Channels) ParseHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length != 13) throw new InvalidDataException($"IHDR must hold 13 bytes, got {data.Length}.");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(data);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        byte bitDepth = data[8], colourType = data[9], compression = data[10], filter = data[11], interlace = data[12];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            throw new InvalidDataException($"Invalid PNG size {width}×{height}.");
        if (bitDepth != 8) throw new InvalidDataException($"Only 8-bit PNGs are supported (bit depth {bitDepth}).");
        int channels = colourType switch
        {
            0 => 1,
            2 => 3,
            _ => throw new InvalidDataException($"Only grayscale and RGB PNGs are supported (colour type {colourType})."),
        };
        if (compression != 0 || filter != 0) throw new InvalidDataException("Unknown PNG compression or filter method.");
        if (interlace != 0) throw new InvalidDataException("Interlaced PNGs are not supported.");
        return ((int)width, (int)height, channels);
    }

    /// <summary>Reverses the per-row filters (PNG spec §9: None, Sub, Up, Average, Paeth) into packed rows.</summary>
    private static void Unfilter(byte[] raw, byte[] pixels, int rowBytes, int height, int bytesPerPixel)
    {
        for (int y = 0; y < height; y++)
        {
            int src = y * (rowBytes + 1);
            byte filter = raw[src];
            var line = raw.AsSpan(src + 1, rowBytes);
            var row = pixels.AsSpan(y * rowBytes, rowBytes);
            ReadOnlySpan<byte> prior = y > 0 ? pixels.AsSpan((y - 1) * rowBytes, rowBytes) : new byte[rowBytes];
            for (int i = 0; i < rowBytes; i++)
            {
                int a = i >= bytesPerPixel ? row[i - bytesPerPixel] : 0; // left
                int b = prior[i];                                        // above
                int c = i >= bytesPerPixel ? prior[i - bytesPerPixel] : 0; // above-left
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"Unknown PNG row filter {filter} in row {y}."),
                };
                row[i] = (byte)(line[i] + predictor);
            }
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }
}
