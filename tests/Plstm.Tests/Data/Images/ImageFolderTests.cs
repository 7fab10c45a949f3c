using Plstm.Data;
using Plstm.Data.Images;
using Xunit.Abstractions;

namespace Plstm.Tests.Data.Images;

/// <summary>PNG/JPEG decoding, the image-folder data set and the normalisation helpers.</summary>
public sealed class ImageFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "plstm-imagefolder-tests-" + Guid.NewGuid().ToString("N"));

    private readonly ITestOutputHelper _output;

    public ImageFolderTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_root);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string relative, byte[] bytes)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Solid(int width, int height, params byte[] color)
    {
        var pixels = new byte[width * height * color.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = color[i % color.Length];
        return pixels;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(4, false)]
    public void Png_decodes_exactly_for_every_8_bit_colour_type(int stored, bool subFilter)
    {
        const int w = 5, h = 3;
        var pixels = ImageFixtures.RandomPixels(w * h * stored, stored);
        string path = Write("x.png", ImageFixtures.Png(w, h, stored, pixels, subFilter));
        Assert.Equal((w, h, stored), ImageDecoding.ReadInfo(path));

        var decoded = ImageDecoding.ReadFile(path, stored >= 3 ? 3 : 1);
        Assert.Equal((w, h), (decoded.Width, decoded.Height));
        int keep = stored >= 3 ? 3 : 1; // alpha is dropped
        for (int p = 0; p < w * h; p++)
            for (int c = 0; c < keep; c++)
                Assert.Equal(pixels[p * stored + c], decoded.Pixels[p * keep + c]);
    }

    [Fact]
    public void Jpeg_decodes_to_the_encoded_colours()
    {
        string path = Write("q.jpg", ImageFixtures.QuadrantsJpeg);
        Assert.Equal(EncodedImageFormat.Jpeg, ImageDecoding.DetectFormat(ImageFixtures.QuadrantsJpeg));
        var rgb = ImageDecoding.ReadFile(path, 3);
        Assert.Equal((16, 16, 3), (rgb.Width, rgb.Height, rgb.Channels));
        void Near(int x, int y, int r, int g, int b)
        {
            int i = (y * 16 + x) * 3;
            Assert.InRange(rgb.Pixels[i] - r, -3, 3);
            Assert.InRange(rgb.Pixels[i + 1] - g, -3, 3);
            Assert.InRange(rgb.Pixels[i + 2] - b, -3, 3);
        }
        Near(2, 3, 255, 0, 0);
        Near(12, 5, 0, 255, 0);
        Near(4, 12, 0, 0, 255);
        Near(15, 15, 128, 128, 128);

        var gray = ImageDecoding.ReadFile(path, 1);
        Assert.InRange(gray.Pixels[0], 74, 78);    // red → 77·255/256
        Assert.InRange(gray.Pixels[15 * 16 + 15], 126, 130);
    }

    [Fact]
    public void Folder_maps_sorted_class_names_to_labels_and_ignores_other_files()
    {
        Write("dog/b.png", ImageFixtures.Png(4, 4, 3, Solid(4, 4, 10, 20, 30)));
        Write("dog/a.PNG", ImageFixtures.Png(4, 4, 1, Solid(4, 4, 200)));
        Write("dog/sub/c.jpeg", ImageFixtures.QuadrantsJpeg);
        Write("cat/z.jpg", ImageFixtures.QuadrantsJpeg);
        Write("cat/notes.txt", "not an image"u8.ToArray());
        Write("Zebra/m.png", ImageFixtures.Png(8, 2, 3, Solid(8, 2, 0, 0, 0)));
        Write(".hidden/h.png", ImageFixtures.Png(4, 4, 1, Solid(4, 4, 0)));
        Write("loose.png", ImageFixtures.Png(4, 4, 1, Solid(4, 4, 0)));

        var ds = new ImageFolderDataset(_root, new ImageFolderOptions { Height = 4, Width = 4 });
        Assert.Equal(["Zebra", "cat", "dog"], ds.ClassNames); // ordinal: upper case first
        Assert.Equal(2, ds.ClassToIndex["dog"]);
        Assert.Equal((5, 3, 3, 4, 4), (ds.Count, ds.NumClasses, ds.Channels, ds.Height, ds.Width));
        Assert.Equal(["m.png", "z.jpg", "a.PNG", "b.png", "c.jpeg"], ds.Samples.Select(s => Path.GetFileName(s.Path)));
        Assert.Equal([0, 1, 2, 2, 2], ds.Samples.Select(s => s.Label));
        for (int i = 0; i < ds.Count; i++)
        {
            var (image, label) = ds.Get(i);
            using (image)
            {
                Assert.Equal(ds.Samples[i].Label, label);
                Assert.Equal([3L, 4, 4], image.shape);
                Assert.Equal(ScalarType.Float32, image.dtype);
            }
        }

        // Same size: exact ImageNet normalisation of each channel; a gray file is repeated over RGB.
        using (var b = ds.Get(3).Image)
        {
            Assert.Equal((10 / 255f - 0.485f) / 0.229f, b[0, 1, 2].item<float>());
            Assert.Equal((20 / 255f - 0.456f) / 0.224f, b[1, 3, 3].item<float>());
            Assert.Equal((30 / 255f - 0.406f) / 0.225f, b[2, 0, 0].item<float>());
        }
        using (var a = ds.Get(2).Image)
        {
            for (int c = 0; c < 3; c++)
                Assert.Equal((200 / 255f - Normalization.ImageNetMean[c]) / Normalization.ImageNetStd[c], a[c, 2, 1].item<float>());
        }
    }

    [Fact]
    public void Size_defaults_to_the_first_image_and_grayscale_output_converts_colour()
    {
        Write("a/1.jpg", ImageFixtures.QuadrantsJpeg);
        Write("b/1.png", ImageFixtures.Png(16, 16, 3, Solid(16, 16, 0, 255, 0)));
        var ds = new ImageFolderDataset(_root, new ImageFolderOptions { Channels = 1, Normalization = Normalization.Identity });
        Assert.Equal((1, 16, 16), (ds.Channels, ds.Height, ds.Width));
        using var green = ds.Get(1).Image;
        Assert.Equal([1L, 16, 16], green.shape);
        Assert.Equal(150 * 255 / 256 / 255f, green[0, 7, 7].item<float>()); // stb luma: (150·255) >> 8
        Assert.Equal((0.485f + 0.456f + 0.406f) / 3f, Normalization.ImageNetGray.Mean[0]);
    }

    [Fact]
    public void Bilinear_resize_matches_torch_interpolate_without_align_corners()
    {
        Write("c/wide.png", ImageFixtures.Png(2, 1, 1, [0, 255]));
        Write("c/solid.png", ImageFixtures.Png(7, 5, 3, Solid(7, 5, 51, 102, 204)));
        var ds = new ImageFolderDataset(_root, new ImageFolderOptions { Height = 1, Width = 4, Normalization = Normalization.Identity });
        using (var wide = ds.Get(1).Image) // samples sorted: solid.png, wide.png
        {
            Assert.Equal([3L, 1, 4], wide.shape);
            var row = wide[0, 0].data<float>().ToArray();
            Assert.Equal(new[] { 0f, 0.25f, 0.75f, 1f }, row.Select(v => MathF.Round(v, 5)));
            Assert.True(wide[1].eq(wide[0]).all().item<bool>());
        }
        using (var solid = ds.Get(0).Image) // shrinking a solid image keeps it solid
        {
            Assert.Equal([3L, 1, 4], solid.shape);
            Assert.Equal(204 / 255f, solid[2].max().item<float>(), 5);
            Assert.Equal(204 / 255f, solid[2].min().item<float>(), 5);
        }
    }

    [Fact]
    public void Require_same_size_rejects_other_sizes_naming_the_file()
    {
        Write("a/1.png", ImageFixtures.Png(4, 4, 3, Solid(4, 4, 1, 2, 3)));
        string odd = Write("a/2.png", ImageFixtures.Png(5, 4, 3, Solid(5, 4, 1, 2, 3)));
        var lazy = new ImageFolderDataset(_root, new ImageFolderOptions { Resize = ImageResizeMode.RequireSameSize });
        Assert.Equal((4, 4), (lazy.Height, lazy.Width));
        lazy.Get(0).Image.Dispose();
        var ex = Assert.Throws<InvalidDataException>(() => lazy.Get(1));
        Assert.Contains(odd, ex.Message);
        Assert.Contains("5×4", ex.Message);

        var eager = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(_root,
            new ImageFolderOptions { Resize = ImageResizeMode.RequireSameSize, VerifyFiles = true }));
        Assert.Contains(odd, eager.Message);
    }

    public static TheoryData<string> CorruptFiles() => ["garbage.png", "text.jpg", "empty.png", "truncated.png", "truncated.jpg", "bad-zlib.png"];

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Corrupt_image_fails_naming_the_file(string name)
    {
        var png = ImageFixtures.Png(6, 6, 3, ImageFixtures.RandomPixels(108, 1));
        byte[] bytes = name switch
        {
            "garbage.png" => ImageFixtures.RandomPixels(300, 2),
            "text.jpg" => "hello, not a jpeg"u8.ToArray(),
            "empty.png" => [],
            "truncated.png" => png[..(png.Length - 20)],
            "truncated.jpg" => ImageFixtures.QuadrantsJpeg[..(ImageFixtures.QuadrantsJpeg.Length - 60)],
            "bad-zlib.png" => CorruptIdat(png),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        Write("good/ok.png", png);
        string path = Write("bad/" + name, bytes);
        var ds = new ImageFolderDataset(_root, new ImageFolderOptions { Height = 6, Width = 6 });
        var ex = Assert.Throws<InvalidDataException>(() => ds.Get(0)); // "bad" sorts first
        _output.WriteLine(ex.Message);
        Assert.Contains(path, ex.Message);
        ds.Get(1).Image.Dispose();
    }

    [Fact]
    public void Verify_files_reports_a_non_image_at_construction()
    {
        Write("a/ok.png", ImageFixtures.Png(2, 2, 1, [1, 2, 3, 4]));
        string bad = Write("a/zz.jpg", "GIF89a"u8.ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(_root, new ImageFolderOptions { VerifyFiles = true }));
        Assert.Contains(bad, ex.Message);
        Assert.Contains("not a PNG or JPEG", ex.Message);
    }

    [Fact]
    public void Empty_class_folder_and_missing_classes_are_clear_errors()
    {
        var none = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(_root));
        Assert.Contains("no class subfolders", none.Message);

        Write("full/a.png", ImageFixtures.Png(2, 2, 1, [1, 2, 3, 4]));
        Write("empty/readme.txt", "x"u8.ToArray());
        var empty = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(_root));
        Assert.Contains(Path.Combine(_root, "empty"), empty.Message);

        string missing = Path.Combine(_root, "nope");
        var dir = Assert.Throws<DirectoryNotFoundException>(() => new ImageFolderDataset(missing));
        Assert.Contains(missing, dir.Message);
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Write("a/1.png", ImageFixtures.Png(2, 2, 1, [1, 2, 3, 4]));
        Assert.Throws<ArgumentException>(() => new ImageFolderDataset(_root, new ImageFolderOptions { Channels = 2 }));
        Assert.Throws<ArgumentException>(() => new ImageFolderDataset(_root, new ImageFolderOptions { Height = 3 }));
        Assert.Throws<ArgumentException>(() => new ImageFolderDataset(_root, new ImageFolderOptions { Height = 0, Width = 3 }));
        Assert.Throws<ArgumentException>(() => new ImageFolderDataset(_root,
            new ImageFolderOptions { Channels = 1, Normalization = Normalization.ImageNet }));
    }

    [Fact]
    public void Get_is_thread_safe_and_deterministic()
    {
        for (int i = 0; i < 12; i++)
            Write($"c{i % 3}/{i:D2}.png", ImageFixtures.Png(9, 7, 3, ImageFixtures.RandomPixels(9 * 7 * 3, i)));
        Write("c0/q.jpg", ImageFixtures.QuadrantsJpeg);
        var ds = new ImageFolderDataset(_root, new ImageFolderOptions { Height = 8, Width = 8 });
        var sequential = Enumerable.Range(0, ds.Count).Select(i => ds.Get(i).Image.data<float>().ToArray()).ToArray();
        var parallel = new float[ds.Count][];
        Parallel.For(0, ds.Count * 4, k =>
        {
            int i = k % ds.Count;
            using var image = ds.Get(i).Image;
            parallel[i] = image.data<float>().ToArray();
        });
        for (int i = 0; i < ds.Count; i++) Assert.Equal(sequential[i], parallel[i]);
    }

    [Fact]
    public void Normalization_apply_matches_the_formula()
    {
        using var x = rand(2, 3, 4, 5);
        using var y = Normalization.Apply(x, Normalization.ImageNet);
        Assert.Equal(x.shape, y.shape);
        for (int c = 0; c < 3; c++)
        {
            float v = x[1, c, 2, 3].item<float>();
            Assert.Equal((v - Normalization.ImageNetMean[c]) / Normalization.ImageNetStd[c], y[1, c, 2, 3].item<float>(), 6);
        }
        var buffer = new float[] { 0f, 0.5f, 1f, 0f, 0.5f, 1f };
        Normalization.ApplyInPlace(buffer, 2, new NormalizationStats([0.5f, 0f], [0.5f, 2f]));
        Assert.Equal(new[] { -1f, 0f, 1f, 0f, 0.25f, 0.5f }, buffer);
        using var gray = rand(1, 2, 2);
        Assert.Throws<ArgumentException>(() => Normalization.Apply(gray, Normalization.ImageNet));
        Assert.Throws<ArgumentException>(() => new NormalizationStats([0.5f], [0f]));
        Assert.Throws<ArgumentException>(() => new NormalizationStats([0.5f, 0.5f], [1f]));
    }

    private static byte[] CorruptIdat(byte[] png)
    {
        var copy = (byte[])png.Clone();
        int idat = copy.AsSpan().IndexOf("IDAT"u8);
        for (int i = idat + 6; i < idat + 14; i++) copy[i] = 0xFF;
        return copy;
    }
}
