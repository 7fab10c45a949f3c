using System.Buffers.Binary;
using System.IO.Compression;

namespace Plstm.Data.Images;

/// <summary>
/// Images of an IDX file (magic <c>0x00000803</c>): <see cref="Count"/> unsigned-byte images of
/// <see cref="Rows"/> × <see cref="Columns"/> pixels, row-major, stored one after the other in <see cref="Pixels"/>.
/// </summary>
public sealed class IdxImages
{
    /// <summary>Wraps decoded pixels; <paramref name="pixels"/> must hold exactly count · rows · columns bytes.</summary>
    /// <exception cref="ArgumentException">Negative count, non-positive size or a pixel buffer of another length.</exception>
    public IdxImages(int count, int rows, int columns, byte[] pixels, string source = "")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)count * rows * columns)
            throw new ArgumentException($"{count} images of {rows}×{columns} need {(long)count * rows * columns} bytes; got {pixels.LongLength}.", nameof(pixels));
        Count = count;
        Rows = rows;
        Columns = columns;
        Pixels = pixels;
        Source = source ?? "";
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Image height in pixels.</summary>
    public int Rows { get; }

    /// <summary>Image width in pixels.</summary>
    public int Columns { get; }

    /// <summary>All pixels, image after image, each row-major (0 = background for MNIST-style data).</summary>
    public byte[] Pixels { get; }

    /// <summary>The file the images came from (empty when not from a file).</summary>
    public string Source { get; }

    /// <summary>Pixels per image (<see cref="Rows"/> · <see cref="Columns"/>).</summary>
    public int PixelsPerImage => Rows * Columns;

    /// <summary>The pixels of image <paramref name="index"/>, row-major.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }
}

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST: a big-endian header — magic <c>00 00 TT DD</c> (TT the
/// element type, 0x08 = unsigned byte; DD the number of dimensions), then DD big-endian int32 sizes — followed by the
/// elements. Files may be plain or gzip-compressed (recognised by the gzip magic <c>1f 8b</c>, whatever the file name).
/// Every problem is reported as an <see cref="InvalidDataException"/> whose message starts with the file name and says
/// what was wrong. All methods are thread-safe.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of unsigned-byte image files (3 dimensions: count, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of unsigned-byte label files (1 dimension: count).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Element-type code of unsigned bytes, the only type read here.</summary>
    public const byte UnsignedByteType = 0x08;

    /// <summary>Whether <paramref name="data"/> starts with the gzip magic <c>1f 8b</c>.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    /// <summary>Reads an image file (magic <c>0x00000803</c>), plain or gzip.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Bad magic, truncated or oversized data, corrupt gzip.</exception>
    public static IdxImages ReadImages(string path)
    {
        var (dims, data) = ReadFile(path, ImagesMagic);
        if (dims[1] < 1 || dims[2] < 1)
            throw Bad(path, $"image size {dims[1]}×{dims[2]} is empty");
        return new IdxImages(dims[0], dims[1], dims[2], data, path);
    }

    /// <summary>
    /// Reads a label file (magic <c>0x00000801</c>), plain or gzip. With <paramref name="numClasses"/>, every label must
    /// lie in 0 … numClasses − 1.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Bad magic, truncated or oversized data, corrupt gzip, a label out of range.</exception>
    public static byte[] ReadLabels(string path, int? numClasses = null)
    {
        if (numClasses is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "Unsigned-byte labels allow 1 … 256 classes.");
        var (_, labels) = ReadFile(path, LabelsMagic);
        if (numClasses is int k)
        {
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] >= k)
                    throw Bad(path, $"label {labels[i]} of item {i} is out of range (expected 0 … {k - 1})");
        }
        return labels;
    }

    /// <summary>
    /// Reads an image file and its label file and checks that they hold the same number of items (and, with
    /// <paramref name="numClasses"/>, that every label is in range).
    /// </summary>
    /// <exception cref="InvalidDataException">Either file is invalid, or the counts differ (the message names both files).</exception>
    public static (IdxImages Images, byte[] Labels) ReadPair(string imagesPath, string labelsPath, int? numClasses = null)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath, numClasses);
        if (images.Count != labels.Length)
            throw new InvalidDataException(
                $"IDX files '{imagesPath}' and '{labelsPath}' do not match: {images.Count} images but {labels.Length} labels.");
        return (images, labels);
    }

    /// <summary>
    /// Reads any unsigned-byte IDX file: its dimension sizes and elements. With <paramref name="expectedMagic"/>, the
    /// magic number must equal it.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid unsigned-byte IDX file.</exception>
    public static (int[] Dimensions, byte[] Data) ReadFile(string path, int? expectedMagic = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> probe = stackalloc byte[2];
        int got = file.ReadAtLeast(probe, 2, throwOnEndOfStream: false);
        file.Position = 0;
        bool gzip = IsGzip(probe[..got]);
        try
        {
            if (!gzip) return Parse(file, path, expectedMagic, remaining: file.Length);
            using var inflated = new GZipStream(file, CompressionMode.Decompress);
            return Parse(inflated, path, expectedMagic, remaining: null);
        }
        catch (InvalidDataException ex) when (gzip && !ex.Message.StartsWith(Prefix(path), StringComparison.Ordinal))
        {
            throw Bad(path, $"corrupt gzip data ({ex.Message})", ex);
        }
    }

    private static (int[] Dimensions, byte[] Data) Parse(Stream stream, string path, int? expectedMagic, long? remaining)
    {
        string compressed = remaining is null ? " after gzip decompression" : "";
        Span<byte> head = stackalloc byte[4];
        int read = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        if (read < 4)
            throw Bad(path, $"file too short for an IDX header ({read} bytes{compressed})");
        int magic = BinaryPrimitives.ReadInt32BigEndian(head);
        if (head[0] != 0 || head[1] != 0)
            throw Bad(path, $"bad magic number 0x{magic:X8} (an IDX magic starts with two zero bytes{(expectedMagic is int w ? $"; expected 0x{w:X8}: {Describe(w)}" : "")})");
        if (head[2] != UnsignedByteType)
            throw Bad(path, $"bad magic number 0x{magic:X8}: unsupported element type 0x{head[2]:X2} (only unsigned bytes, 0x08, are read)");
        if (expectedMagic is int want && magic != want)
            throw Bad(path, $"bad magic number 0x{magic:X8} (expected 0x{want:X8}: {Describe(want)}){Hint(magic)}");
        int ndims = head[3];
        if (ndims < 1)
            throw Bad(path, "bad magic number: zero dimensions");
        var dimBytes = new byte[4 * ndims];
        read = stream.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
        if (read < dimBytes.Length)
            throw Bad(path, $"header truncated: {ndims} dimension sizes need {dimBytes.Length} bytes after the magic, found {read}{compressed}");
        var dims = new int[ndims];
        long expected = 1;
        for (int d = 0; d < ndims; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * d));
            if (dims[d] < 0)
                throw Bad(path, $"dimension {d} has a negative size ({dims[d]})");
            expected = expected * dims[d];
            if (expected > Array.MaxLength)
                throw Bad(path, $"header declares more than {Array.MaxLength} elements (sizes {string.Join(" × ", dims[..(d + 1)])} …)");
        }
        long header = 4 + dimBytes.Length;
        string shape = string.Join(" × ", dims);
        if (remaining is long total && total - header != expected)
            throw Bad(path, SizeProblem(shape, expected, total - header, compressed));

        if (remaining is not null)
        {
            var exact = new byte[expected];
            stream.ReadExactly(exact);
            return (dims, exact);
        }

        // Compressed: grow with the data actually present, so a lying header cannot force a huge allocation.
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while (buffer.Length <= expected && (n = stream.Read(chunk, 0, chunk.Length)) > 0)
            buffer.Write(chunk, 0, n);
        bool trailing = buffer.Length > expected || (buffer.Length == expected && stream.Read(chunk, 0, 1) > 0);
        if (trailing || buffer.Length != expected)
            throw Bad(path, SizeProblem(shape, expected, buffer.Length, compressed, atLeast: trailing));
        byte[] data = expected == 0 ? [] : buffer.GetBuffer()[..(int)expected];
        return (dims, data);
    }

    private static string SizeProblem(string shape, long expected, long found, string compressed, bool atLeast = false) =>
        found < expected
            ? $"size mismatch: the header declares {shape} = {expected} data bytes but the file holds {found}{compressed} (truncated?)"
            : $"size mismatch: the header declares {shape} = {expected} data bytes but the file holds {(atLeast ? "more than that" : found.ToString())}{compressed} (trailing data)";

    private static string Describe(int magic) => magic switch
    {
        ImagesMagic => "unsigned-byte images, 3 dimensions",
        LabelsMagic => "unsigned-byte labels, 1 dimension",
        _ => $"type 0x{(magic >> 8) & 0xff:X2}, {magic & 0xff} dimensions",
    };

    private static string Hint(int magic) => magic switch
    {
        ImagesMagic => "; this is an image file",
        LabelsMagic => "; this is a label file",
        _ => "",
    };

    private static string Prefix(string path) => $"IDX file '{path}': ";

    private static InvalidDataException Bad(string path, string problem, Exception? inner = null) =>
        new(Prefix(path) + problem + ".", inner);
}
