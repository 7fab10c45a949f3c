using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Data.Images;

/// <summary>How <see cref="ImageFolderDataset"/> brings images to the data set's size.</summary>
public enum ImageResizeMode
{
    /// <summary>Resize every image whose size differs with bilinear interpolation (torch <c>interpolate</c>, <c>align_corners = false</c>).</summary>
    Bilinear,

    /// <summary>Every image must already have the data set's size; another size is an <see cref="InvalidDataException"/>.</summary>
    RequireSameSize,
}

/// <summary>Options of <see cref="ImageFolderDataset"/>.</summary>
public sealed class ImageFolderOptions
{
    /// <summary>Channels of the output: 3 (RGB; gray images are repeated) or 1 (gray; colour images are converted). Default 3.</summary>
    public int Channels { get; init; } = 3;

    /// <summary>Output height; null (with <see cref="Width"/> null) = the size of the first image in sample order.</summary>
    public int? Height { get; init; }

    /// <summary>Output width; null (with <see cref="Height"/> null) = the size of the first image in sample order.</summary>
    public int? Width { get; init; }

    /// <summary>What to do with images of another size. Default <see cref="ImageResizeMode.Bilinear"/>.</summary>
    public ImageResizeMode Resize { get; init; } = ImageResizeMode.Bilinear;

    /// <summary>Apply an antialiasing filter when bilinear resizing shrinks an image (as torchvision's <c>Resize</c>). Default true.</summary>
    public bool Antialias { get; init; } = true;

    /// <summary>
    /// Normalisation after pixel / 255; null = ImageNet (<see cref="Normalization.ImageNet"/> for 3 channels,
    /// <see cref="Normalization.ImageNetGray"/> for 1).
    /// </summary>
    public NormalizationStats? Normalization { get; init; }

    /// <summary>
    /// Read every file's header when the data set is built, so that unreadable files, non-images and (with
    /// <see cref="ImageResizeMode.RequireSameSize"/>) wrong sizes fail at once rather than at <see cref="ImageFolderDataset.Get"/>.
    /// Default false (a folder of many files opens without reading them).
    /// </summary>
    public bool VerifyFiles { get; init; }
}

/// <summary>One file of an <see cref="ImageFolderDataset"/>.</summary>
/// <param name="Path">Full path of the image file.</param>
/// <param name="Label">Its class id.</param>
public readonly record struct ImageFolderSample(string Path, int Label);

/// <summary>
/// Images in a folder tree in the layout of torchvision's <c>ImageFolder</c>: <c>root/&lt;class&gt;/…/&lt;file&gt;</c>.
/// Class folders are the immediate subfolders of the root (hidden ones, whose names start with '.', are skipped),
/// sorted by ordinal name; the i-th gets label i. A class's samples are its PNG and JPEG files
/// (<see cref="ImageDecoding.SupportedExtensions"/>, case-insensitive) at any depth below it, sorted by ordinal
/// relative path; other files are ignored. Images are decoded on each <see cref="Get"/> (nothing is cached), converted
/// to <see cref="ImageFolderOptions.Channels"/> channels, brought to the data set's size, scaled to [0, 1] and
/// normalised. Thread-safe.
/// </summary>
public sealed class ImageFolderDataset : IBatchImageDataset
{
    private readonly ImageFolderSample[] _samples;
    private readonly float[][] _lookup;

    /// <summary>Scans <paramref name="root"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The root does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folders, a class folder without images, an unreadable first file
    /// when the size is taken from it, or (with <see cref="ImageFolderOptions.VerifyFiles"/>) any bad file — the
    /// message names the folder or file.</exception>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public ImageFolderDataset(string root, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Options = options ?? new ImageFolderOptions();
        if (Options.Channels is not (1 or 3))
            throw new ArgumentException($"ImageFolderOptions.Channels must be 1 or 3; got {Options.Channels}.", nameof(options));
        if (Options.Height.HasValue != Options.Width.HasValue)
            throw new ArgumentException("ImageFolderOptions.Height and Width must be given together (or neither).", nameof(options));
        if (Options.Height is < 1 || Options.Width is < 1)
            throw new ArgumentException($"ImageFolderOptions size must be positive; got {Options.Height}×{Options.Width} (H×W).", nameof(options));
        Normalization = Options.Normalization ?? (Options.Channels == 3 ? Data.Normalization.ImageNet : Data.Normalization.ImageNetGray);
        if (!Normalization.Fits(Options.Channels))
            throw new ArgumentException($"Normalisation ({Normalization}) does not fit {Options.Channels} channel(s).", nameof(options));
        _lookup = Normalization.ByteLookup(Options.Channels);

        Root = Path.GetFullPath(root);
        if (!Directory.Exists(Root))
            throw new DirectoryNotFoundException($"Image folder '{Root}' does not exist.");
        var classDirs = Directory.GetDirectories(Root)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .ToArray();
        if (classDirs.Length == 0)
            throw new InvalidDataException($"Image folder '{Root}' has no class subfolders (expected root/<class>/<image>.png|.jpg).");

        var samples = new List<ImageFolderSample>();
        var empty = new List<string>();
        for (int label = 0; label < classDirs.Length; label++)
        {
            string dir = classDirs[label];
            var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                .Where(ImageDecoding.HasSupportedExtension)
                .OrderBy(f => Path.GetRelativePath(dir, f), StringComparer.Ordinal)
                .ToArray();
            if (files.Length == 0) empty.Add(dir);
            samples.AddRange(files.Select(f => new ImageFolderSample(f, label)));
        }
        if (empty.Count > 0)
            throw new InvalidDataException(
                $"Image folder '{Root}': class folder(s) without PNG/JPEG files: {string.Join(", ", empty.Select(d => $"'{d}'"))}.");
        _samples = [.. samples];
        ClassNames = [.. classDirs.Select(d => Path.GetFileName(d))];
        ClassToIndex = ClassNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);

        if (Options.Height is int h && Options.Width is int w)
            (Height, Width) = (h, w);
        else
        {
            var (fw, fh, _) = ImageDecoding.ReadInfo(_samples[0].Path);
            (Height, Width) = (fh, fw);
        }
        if (Options.VerifyFiles)
            foreach (var sample in _samples)
            {
                var (iw, ih, _) = ImageDecoding.ReadInfo(sample.Path);
                if (Options.Resize == ImageResizeMode.RequireSameSize) CheckSize(sample.Path, iw, ih);
            }
    }

    /// <summary>The root folder (full path).</summary>
    public string Root { get; }

    /// <summary>The options in effect.</summary>
    public ImageFolderOptions Options { get; }

    /// <summary>The normalisation applied after pixel / 255.</summary>
    public NormalizationStats Normalization { get; }

    /// <summary>Class names (folder names), indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Label of each class name.</summary>
    public IReadOnlyDictionary<string, int> ClassToIndex { get; }

    /// <summary>All samples in order: by class, then by relative path.</summary>
    public IReadOnlyList<ImageFolderSample> Samples => _samples;

    /// <inheritdoc />
    public int Count => _samples.Length;

    /// <inheritdoc />
    public int NumClasses => ClassNames.Count;

    /// <inheritdoc />
    public int Channels => Options.Channels;

    /// <inheritdoc />
    public int Height { get; }

    /// <inheritdoc />
    public int Width { get; }

    /// <summary>The label of sample <paramref name="index"/> (no file is read).</summary>
    public int GetLabel(int index) => _samples[CheckIndex(index)].Label;

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The file is not a valid PNG/JPEG, or has the wrong size under
    /// <see cref="ImageResizeMode.RequireSameSize"/> (the message names the file).</exception>
    public (Tensor Image, long Label) Get(int index)
    {
        var sample = _samples[CheckIndex(index)];
        var image = ImageDecoding.ReadFile(sample.Path, Channels);
        if (image.Width == Width && image.Height == Height)
            return (FromPixels(image), sample.Label);
        if (Options.Resize == ImageResizeMode.RequireSameSize)
            CheckSize(sample.Path, image.Width, image.Height);
        return (Resized(image), sample.Label);
    }

    /// <inheritdoc />
    /// <remarks>Files are decoded in parallel; an image of another size is resized afterwards on the calling thread
    /// (the resize is a libtorch call, kept off the pool's threads). A file that fails fails the batch with the error of
    /// the first such sample in batch order.</remarks>
    /// <exception cref="InvalidDataException">A file is not a valid PNG/JPEG, or has the wrong size under
    /// <see cref="ImageResizeMode.RequireSameSize"/> (the message names the file).</exception>
    public void FillBatch(IReadOnlyList<int> indices, float[] pixels, long[] labels)
    {
        int perImage = ImageBatch.CheckBuffers(this, indices, pixels, labels);
        foreach (int index in indices) CheckIndex(index);
        var toResize = new DecodedImage?[indices.Count];
        ImageBatch.ForEachInParallel(indices.Count, i =>
        {
            var sample = _samples[indices[i]];
            labels[i] = sample.Label;
            var image = ImageDecoding.ReadFile(sample.Path, Channels);
            if (image.Width == Width && image.Height == Height)
            {
                WriteNormalised(image, pixels.AsSpan(i * perImage, perImage));
                return;
            }
            if (Options.Resize == ImageResizeMode.RequireSameSize)
                CheckSize(sample.Path, image.Width, image.Height);
            toResize[i] = image;
        });
        for (int i = 0; i < indices.Count; i++)
        {
            if (toResize[i] is not { } image) continue;
            using var resized = Resized(image);
            using var values = resized.data<float>();
            values.CopyTo(pixels.AsSpan(i * perImage, perImage), 0, 0);
        }
    }

    private Tensor FromPixels(DecodedImage image)
    {
        var values = new float[image.Channels * image.Width * image.Height];
        WriteNormalised(image, values);
        return tensor(values, [image.Channels, image.Height, image.Width], ScalarType.Float32);
    }

    // Interleaved bytes [H, W, C] to normalised planes [C, H, W].
    private void WriteNormalised(DecodedImage image, Span<float> values)
    {
        int c = image.Channels, plane = image.Width * image.Height;
        var pixels = image.Pixels;
        for (int ch = 0; ch < c; ch++)
        {
            var lut = _lookup[ch];
            int offset = ch * plane;
            for (int p = 0; p < plane; p++) values[offset + p] = lut[pixels[p * c + ch]];
        }
    }

    private Tensor Resized(DecodedImage image)
    {
        using var scope = NewDisposeScope();
        var hwc = tensor(image.Pixels, [image.Height, image.Width, image.Channels], ScalarType.Byte);
        var x = hwc.permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32).div_(255f);
        bool shrinking = image.Width > Width || image.Height > Height;
        var resized = nn.functional.interpolate(x, size: [Height, Width], mode: InterpolationMode.Bilinear,
            align_corners: false, antialias: Options.Antialias && shrinking);
        var result = Data.Normalization.Apply(resized.squeeze(0), Normalization).contiguous();
        return result.MoveToOuterDisposeScope();
    }

    private void CheckSize(string path, int width, int height)
    {
        if (width != Width || height != Height)
            throw new InvalidDataException(
                $"Image file '{path}': size {width}×{height} (W×H) differs from the data set's {Width}×{Height}; use ImageResizeMode.Bilinear to resize.");
    }

    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)_samples.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The dataset has {_samples.Length} samples.");
        return index;
    }
}
