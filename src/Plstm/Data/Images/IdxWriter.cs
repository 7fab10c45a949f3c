using System.Buffers.Binary;
using System.IO.Compression;

namespace Plstm.Data.Images;

/// <summary>
/// Writes unsigned-byte IDX files (the inverse of <see cref="IdxReader"/>), plain or gzip-compressed: for subsets,
/// converted data sets and test fixtures.
/// </summary>
public static class IdxWriter
{
    /// <summary>The bytes of an image file (magic <c>0x00000803</c>) holding <paramref name="count"/> images of rows × columns.</summary>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> does not hold count · rows · columns bytes.</exception>
    public static byte[] EncodeImages(int count, int rows, int columns, ReadOnlySpan<byte> pixels, bool gzip = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (pixels.Length != (long)count * rows * columns)
            throw new ArgumentException($"{count} images of {rows}×{columns} need {(long)count * rows * columns} bytes; got {pixels.Length}.", nameof(pixels));
        return Encode(IdxReader.ImagesMagic, [count, rows, columns], pixels, gzip);
    }

    /// <summary>The bytes of a label file (magic <c>0x00000801</c>).</summary>
    public static byte[] EncodeLabels(ReadOnlySpan<byte> labels, bool gzip = false) =>
        Encode(IdxReader.LabelsMagic, [labels.Length], labels, gzip);

    /// <summary>Writes an image file atomically (see <see cref="EncodeImages"/>).</summary>
    public static void WriteImages(string path, int count, int rows, int columns, ReadOnlySpan<byte> pixels, bool gzip = false) =>
        AtomicFile.WriteAllBytes(path, EncodeImages(count, rows, columns, pixels, gzip));

    /// <summary>Writes <paramref name="images"/> to an image file atomically.</summary>
    public static void WriteImages(string path, IdxImages images, bool gzip = false)
    {
        ArgumentNullException.ThrowIfNull(images);
        WriteImages(path, images.Count, images.Rows, images.Columns, images.Pixels, gzip);
    }

    /// <summary>Writes a label file atomically (see <see cref="EncodeLabels"/>).</summary>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels, bool gzip = false) =>
        AtomicFile.WriteAllBytes(path, EncodeLabels(labels, gzip));

    private static byte[] Encode(int magic, int[] dims, ReadOnlySpan<byte> data, bool gzip)
    {
        var raw = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(raw, magic);
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(raw.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(raw.AsSpan(4 + 4 * dims.Length));
        if (!gzip) return raw;
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) zip.Write(raw);
        return output.ToArray();
    }
}
