using System.Buffers.Binary;
using System.IO.Compression;
using Plstm.Data;
using Plstm.Data.Images;
using Xunit.Abstractions;

namespace Plstm.Tests.Data.Images;

/// <summary>IDX reading and writing on small synthetic files, and the IDX data set.</summary>
public sealed class IdxTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plstm-idx-tests-" + Guid.NewGuid().ToString("N"));

    private readonly ITestOutputHelper _output;

    public IdxTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_round_trip(bool gzip)
    {
        const int n = 7, rows = 3, cols = 5;
        var pixels = ImageFixtures.RandomPixels(n * rows * cols, 11);
        byte[] labels = [0, 1, 2, 9, 3, 9, 4];
        string ext = gzip ? ".gz" : "";
        IdxWriter.WriteImages(PathOf("img" + ext), n, rows, cols, pixels, gzip);
        IdxWriter.WriteLabels(PathOf("lbl" + ext), labels, gzip);
        Assert.Equal(gzip, IdxReader.IsGzip(File.ReadAllBytes(PathOf("img" + ext))));

        var (images, read) = IdxReader.ReadPair(PathOf("img" + ext), PathOf("lbl" + ext), numClasses: 10);
        Assert.Equal((n, rows, cols), (images.Count, images.Rows, images.Columns));
        Assert.Equal(pixels, images.Pixels);
        Assert.Equal(labels, read);
        Assert.Equal(pixels.AsSpan(2 * rows * cols, rows * cols).ToArray(), images.Image(2).ToArray());
    }

    [Fact]
    public void Gzip_is_detected_by_content_not_by_name()
    {
        var pixels = ImageFixtures.RandomPixels(2 * 4, 3);
        File.WriteAllBytes(PathOf("gz-without-suffix"), IdxWriter.EncodeImages(2, 2, 2, pixels, gzip: true));
        File.WriteAllBytes(PathOf("plain-with-suffix.gz"), IdxWriter.EncodeImages(2, 2, 2, pixels, gzip: false));
        Assert.Equal(pixels, IdxReader.ReadImages(PathOf("gz-without-suffix")).Pixels);
        Assert.Equal(pixels, IdxReader.ReadImages(PathOf("plain-with-suffix.gz")).Pixels);
    }

    [Fact]
    public void Header_is_big_endian_with_the_standard_magic()
    {
        var bytes = IdxWriter.EncodeImages(1, 2, 3, new byte[6]);
        Assert.Equal(new byte[] { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 }, bytes[..16]);
        Assert.Equal(new byte[] { 0, 0, 8, 1, 0, 0, 0, 2, 4, 5 }, IdxWriter.EncodeLabels([4, 5]));
    }

    public static TheoryData<string, string> CorruptImageFiles() => new()
    {
        { "bad-magic", "bad magic number 0x00000804" },
        { "label-file", "this is a label file" },
        { "empty", "too short for an IDX header" },
        { "short-header", "header truncated" },
        { "truncated", "size mismatch" },
        { "truncated-gz", "size mismatch" },
        { "trailing", "trailing data" },
        { "trailing-gz", "trailing data" },
        { "corrupt-gz", "corrupt gzip data" },
        { "int-type", "unsupported element type 0x0C" },
        { "negative-dim", "negative size" },
        { "huge-header", "size mismatch" },
    };

    [Theory]
    [MemberData(nameof(CorruptImageFiles))]
    public void Corrupt_image_files_fail_naming_the_file_and_the_problem(string kind, string problem)
    {
        var good = IdxWriter.EncodeImages(3, 4, 4, ImageFixtures.RandomPixels(48, 5));
        byte[] bytes = kind switch
        {
            "bad-magic" => With(good, 0, 0x00000804),
            "label-file" => IdxWriter.EncodeLabels([1, 2, 3]),
            "empty" => [],
            "short-header" => good[..10],
            "truncated" => good[..^5],
            "truncated-gz" => Gzip(good[..^5]),
            "trailing" => [.. good, 7],
            "trailing-gz" => Gzip([.. good, 7, 7]),
            "corrupt-gz" => [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff],
            "int-type" => With(good, 0, 0x00000C03),
            "negative-dim" => With(good, 8, -4),
            "huge-header" => With(good, 4, 1_000_000),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        string path = PathOf(kind + "-images-idx3-ubyte");
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        _output.WriteLine(ex.Message);
        Assert.Contains(path, ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void Gzip_truncated_inside_the_compressed_stream_fails_naming_the_file()
    {
        var gz = IdxWriter.EncodeImages(50, 10, 10, ImageFixtures.RandomPixels(5000, 8), gzip: true);
        string path = PathOf("cut.gz");
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        _output.WriteLine(ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Label_out_of_range_fails_naming_the_file()
    {
        string path = PathOf("labels");
        IdxWriter.WriteLabels(path, [1, 2, 10, 3]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path, numClasses: 10));
        Assert.Contains(path, ex.Message);
        Assert.Contains("label 10 of item 2 is out of range", ex.Message);
        Assert.Equal(new byte[] { 1, 2, 10, 3 }, IdxReader.ReadLabels(path)); // no range without a class count
    }

    [Fact]
    public void Label_file_with_image_magic_fails()
    {
        string path = PathOf("labels-that-are-images");
        IdxWriter.WriteImages(path, 1, 1, 1, [0]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("this is an image file", ex.Message);
    }

    [Fact]
    public void Image_and_label_count_mismatch_names_both_files()
    {
        IdxWriter.WriteImages(PathOf("i"), 3, 2, 2, new byte[12]);
        IdxWriter.WriteLabels(PathOf("l"), [0, 1]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadPair(PathOf("i"), PathOf("l"), 10));
        Assert.Contains(PathOf("i"), ex.Message);
        Assert.Contains(PathOf("l"), ex.Message);
        Assert.Contains("3 images but 2 labels", ex.Message);
    }

    [Fact]
    public void Missing_file_is_FileNotFound()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadImages(PathOf("nope")));
        Assert.Contains(PathOf("nope"), ex.Message);
    }

    [Fact]
    public void Dataset_normalises_like_torchvision_and_batches_match_samples()
    {
        const int n = 4, rows = 3, cols = 2;
        var pixels = ImageFixtures.RandomPixels(n * rows * cols, 21);
        pixels[0] = 0;
        pixels[1] = 255;
        IdxWriter.WriteImages(PathOf("i.gz"), n, rows, cols, pixels, gzip: true);
        IdxWriter.WriteLabels(PathOf("l.gz"), [3, 1, 4, 1], gzip: true);
        var ds = IdxImageDataset.Load(PathOf("i.gz"), PathOf("l.gz"), 10, Normalization.FashionMnist);
        Assert.Equal((n, 10, 1, rows, cols), (ds.Count, ds.NumClasses, ds.Channels, ds.Height, ds.Width));

        var (image, label) = ds.Get(2);
        using (image)
        {
            Assert.Equal(4L, label);
            Assert.Equal([1L, rows, cols], image.shape);
            Assert.Equal(ScalarType.Float32, image.dtype);
            var values = image.data<float>().ToArray();
            for (int p = 0; p < rows * cols; p++)
                Assert.Equal((pixels[2 * rows * cols + p] / 255f - 0.2860f) / 0.3530f, values[p]);
        }
        using (var first = ds.Get(0).Image)
        {
            Assert.Equal(-0.2860f / 0.3530f, first[0, 0, 0].item<float>(), 6);
            Assert.Equal((1f - 0.2860f) / 0.3530f, first[0, 0, 1].item<float>(), 6);
        }

        var (batch, labels) = ds.GetBatch([3, 0, 2]);
        using (batch)
        using (labels)
        {
            Assert.Equal([3L, 1, rows, cols], batch.shape);
            Assert.Equal(new long[] { 1, 3, 4 }, labels.data<long>().ToArray());
            using var sample = ds.Get(0).Image;
            Assert.True(batch[1].eq(sample).all().item<bool>());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Get(n));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Get(-1));
    }

    [Fact]
    public void Dataset_without_normalisation_is_pixel_over_255()
    {
        IdxWriter.WriteImages(PathOf("i"), 1, 1, 3, [0, 128, 255]);
        IdxWriter.WriteLabels(PathOf("l"), [0]);
        var ds = IdxImageDataset.Load(PathOf("i"), PathOf("l"));
        using var image = ds.Get(0).Image;
        Assert.Equal(new[] { 0f, 128f / 255f, 1f }, image.data<float>().ToArray());
    }

    [Fact]
    public void Dataset_rejects_multi_channel_statistics()
    {
        var images = new IdxImages(1, 1, 1, [0]);
        Assert.Throws<ArgumentException>(() => new IdxImageDataset(images, [0], 10, Normalization.ImageNet));
    }

    private static byte[] With(byte[] bytes, int offset, int value)
    {
        var copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(offset), value);
        return copy;
    }

    private static byte[] Gzip(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        return ms.ToArray();
    }
}
