using System.Buffers.Binary;
using System.IO.Compression;
using Plstm.Data;
using Plstm.Data.ArrowPointing;
using Plstm.Data.Images;

namespace Plstm.Tests.Data;

/// <summary>The minimal PNG codec and the atomic file writer.</summary>
public sealed class PngTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plstm-png-tests-" + Guid.NewGuid().ToString("N"));

    public PngTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(1, 37, 23)]
    [InlineData(3, 5, 7)]
    [InlineData(1, 1, 1)]
    public void Encode_decode_round_trip(int channels, int width, int height)
    {
        var pixels = new byte[width * height * channels];
        new System.Random(channels * 1000 + width).NextBytes(pixels);
        var decoded = PngReader.Decode(PngWriter.Encode(new PngImage(width, height, channels, pixels)));
        Assert.Equal((width, height, channels), (decoded.Width, decoded.Height, decoded.Channels));
        Assert.Equal(pixels, decoded.Pixels);
    }

    [Fact]
    public void Rendered_sample_round_trips_through_a_file()
    {
        var generator = new ArrowPointingGenerator(ArrowPointingSettings.Paper(192, 42));
        byte[] render = generator.Render(0);
        string path = Path.Combine(_folder, "00000.png");
        PngWriter.WriteFile(path, PngImage.Grayscale(192, 192, render));
        var image = PngReader.ReadFile(path);
        Assert.Equal(render, image.Pixels);
        Assert.Equal([path], Directory.GetFiles(_folder)); // no temporary file left behind
        Assert.True(new FileInfo(path).Length < 4000, "binary renders compress well");
    }

    [Fact]
    public void All_five_row_filters_decode()
    {
        // Build an RGB PNG by hand whose row y uses filter y mod 5, as other encoders may do.
        const int width = 6, height = 10, bpp = 3;
        var pixels = new byte[width * height * bpp];
        new System.Random(5).NextBytes(pixels);
        int rowBytes = width * bpp;
        var raw = new byte[(rowBytes + 1) * height];
        for (int y = 0; y < height; y++)
        {
            int filter = y % 5;
            raw[y * (rowBytes + 1)] = (byte)filter;
            for (int i = 0; i < rowBytes; i++)
            {
                int x = pixels[y * rowBytes + i];
                int a = i >= bpp ? pixels[y * rowBytes + i - bpp] : 0;
                int b = y > 0 ? pixels[(y - 1) * rowBytes + i] : 0;
                int c = i >= bpp && y > 0 ? pixels[(y - 1) * rowBytes + i - bpp] : 0;
                int predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, _ => Paeth(a, b, c) };
                raw[y * (rowBytes + 1) + 1 + i] = (byte)(x - predictor);
            }
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = 2;
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        byte[] data = compressed.ToArray();
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "tEXt", "Comment\0ancillary chunks are skipped"u8.ToArray());
        WriteChunk(png, "IDAT", data[..(data.Length / 2)]); // image data split over two IDAT chunks
        WriteChunk(png, "IDAT", data[(data.Length / 2)..]);
        WriteChunk(png, "IEND", []);
        Assert.Equal(pixels, PngReader.Decode(png.ToArray()).Pixels);
    }

    [Fact]
    public void Corrupt_or_unsupported_files_are_rejected()
    {
        byte[] good = PngWriter.Encode(PngImage.Grayscale(4, 4, new byte[16]));
        Assert.Throws<InvalidDataException>(() => PngReader.Decode(good.AsSpan(1)));
        byte[] flipped = (byte[])good.Clone();
        flipped[45] ^= 0x40; // inside the IDAT payload: the chunk CRC no longer matches
        Assert.Throws<InvalidDataException>(() => PngReader.Decode(flipped));
        Assert.Throws<InvalidDataException>(() => PngReader.Decode(good.AsSpan(0, good.Length - 12))); // no IEND
        byte[] sixteenBit = (byte[])good.Clone();
        sixteenBit[24] = 16; // IHDR bit depth
        BinaryPrimitives.WriteUInt32BigEndian(sixteenBit.AsSpan(29), PngCrc32.OfChunk("IHDR"u8, sixteenBit.AsSpan(16, 13)));
        var ex = Assert.Throws<InvalidDataException>(() => PngReader.Decode(sixteenBit));
        Assert.Contains("8-bit", ex.Message);
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        Assert.Equal(0xCBF43926u, PngCrc32.Finish(PngCrc32.Update(uint.MaxValue, "123456789"u8)));
    }

    [Fact]
    public void Atomic_write_replaces_whole_files_and_leaves_nothing_on_failure()
    {
        string path = Path.Combine(_folder, "data.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        AtomicFile.WriteAllBytes(path, [4, 5]);
        Assert.Equal([4, 5], File.ReadAllBytes(path));
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write([9, 9, 9]);
            throw new InvalidOperationException("simulated failure");
        }));
        Assert.Equal([4, 5], File.ReadAllBytes(path)); // the old content survives
        Assert.Equal([path], Directory.GetFiles(_folder)); // the temporary file was removed
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        byte[] typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        var word = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        stream.Write(typeBytes);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, PngCrc32.OfChunk(typeBytes, data));
        stream.Write(word);
    }
}
