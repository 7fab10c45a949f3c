using System.Buffers.Binary;
using System.IO.Compression;

namespace Plstm.Tests.Data.Images;

/// <summary>
/// Small encoded images made in the tests: a self-contained PNG encoder (independent of the library's own PNG writer,
/// so the decoder is checked against a second implementation) and a tiny JPEG.
/// </summary>
internal static class ImageFixtures
{
    /// <summary>
    /// A 16 × 16 baseline JPEG (quality 95, no chroma subsampling) with four solid 8 × 8 quadrants: red (top left),
    /// green (top right), blue (bottom left), gray 128 (bottom right). Made once with StbImageWriteSharp 1.16.7.
    /// </summary>
    public static readonly byte[] QuadrantsJpeg = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgoBAgICAgICBQMDBQoHBgcKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCv/AABEIABAAEAMBEQACEQEDEQH/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/2gAMAwEAAhEDEQA/APjCv5TP9/j9Jq/lk/4Vj8HK/wC1A/1YP2Mr/AE/Uz//2Q==");

    /// <summary>
    /// An 8-bit PNG of <paramref name="channels"/> interleaved channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), rows
    /// filtered with filter 0 or, when <paramref name="subFilter"/>, filter 1 (Sub).
    /// </summary>
    public static byte[] Png(int width, int height, int channels, byte[] pixels, bool subFilter = false)
    {
        byte colorType = channels switch { 1 => 0, 2 => 4, 3 => 2, 4 => 6, _ => throw new ArgumentOutOfRangeException(nameof(channels)) };
        Assert.Equal(width * height * channels, pixels.Length);
        int row = width * channels;
        var raw = new byte[(row + 1) * height];
        for (int y = 0; y < height; y++)
        {
            raw[y * (row + 1)] = (byte)(subFilter ? 1 : 0);
            for (int i = 0; i < row; i++)
            {
                byte x = pixels[y * row + i];
                byte left = subFilter && i >= channels ? pixels[y * row + i - channels] : (byte)0;
                raw[y * (row + 1) + 1 + i] = (byte)(x - left);
            }
        }
        byte[] idat;
        using (var ms = new MemoryStream())
        {
            using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
            idat = ms.ToArray();
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = colorType;
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", idat);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Random pixels from a fixed seed.</summary>
    public static byte[] RandomPixels(int count, int seed)
    {
        var pixels = new byte[count];
        new System.Random(seed).NextBytes(pixels);
        return pixels;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        s.Write(four);
        var typed = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed, 4);
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(four, Crc32(typed));
        s.Write(four);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
