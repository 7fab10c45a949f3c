using Plstm.Data;
using Plstm.Training;
using TorchSharp.Modules;

namespace Plstm.Tests.Training;

/// <summary>
/// Trainer tests that train (they seed and use torch's process-wide generator) run alone, so that no other test
/// draws from that generator in between and breaks bit-exact comparisons.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingSerialCollection
{
    public const string Name = "Training (serial: torch global RNG)";
}

/// <summary>
/// A tiny learnable dataset: <c>count</c> random 1×<c>size</c>×<c>size</c> images in [-1, 1]; the label says which
/// quadrant holds a bright 2×2 blob (4 classes; 2 classes = left or right half). Images are built once and each
/// <see cref="Get"/> returns a fresh tensor (as the real datasets do).
/// </summary>
internal sealed class SyntheticDataset : IImageDataset
{
    private readonly float[][] _images;
    private readonly long[] _labels;

    public SyntheticDataset(int count = 64, int size = 8, int classes = 4, int seed = 1)
    {
        if (classes is not (2 or 4)) throw new ArgumentOutOfRangeException(nameof(classes));
        var random = new Random(seed);
        Height = Width = size;
        NumClasses = classes;
        _images = new float[count][];
        _labels = new long[count];
        int half = size / 2;
        for (int i = 0; i < count; i++)
        {
            var pixels = new float[size * size];
            for (int p = 0; p < pixels.Length; p++) pixels[p] = (float)(random.NextDouble() * 0.6 - 0.3);
            int label = random.Next(classes);
            int qy = classes == 4 ? label / 2 : random.Next(2);
            int qx = classes == 4 ? label % 2 : label;
            int y = qy * half + random.Next(half - 1);
            int x = qx * half + random.Next(half - 1);
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                    pixels[(y + dy) * size + x + dx] = 1f;
            _images[i] = pixels;
            _labels[i] = label;
        }
    }

    public int Count => _images.Length;
    public int NumClasses { get; }
    public int Channels => 1;
    public int Height { get; }
    public int Width { get; }

    /// <summary>How many times <see cref="Get"/> ran (from any thread).</summary>
    public int Reads => _reads;
    private int _reads;

    public (Tensor Image, long Label) Get(int index)
    {
        Interlocked.Increment(ref _reads);
        return (tensor(_images[index], [1, Height, Width], ScalarType.Float32), _labels[index]);
    }
}

/// <summary>
/// 1×8×8 images that are 0 except for a marker column (column 0 = <see cref="Marker"/>) and one label pixel in the
/// middle; 4 classes. Tells from a model's input whether the image was mirrored.
/// </summary>
internal sealed class MarkedDataset(int count) : IImageDataset
{
    public const float Marker = 5f;
    private const int Size = 8;

    public int Count => count;
    public int NumClasses => 4;
    public int Channels => 1;
    public int Height => Size;
    public int Width => Size;

    public (Tensor Image, long Label) Get(int index)
    {
        var pixels = new float[Size * Size];
        for (int row = 0; row < Size; row++) pixels[row * Size] = Marker;
        long label = index % 4;
        pixels[(int)label * Size + 3] = 1f;
        return (tensor(pixels, [1, Size, Size], ScalarType.Float32), label);
    }
}

/// <summary><see cref="TinyConvNet"/> without dropout that records, per forward call, its mode and the mean of the
/// first and of the last image column of its input.</summary>
internal sealed class RecordingNet : nn.Module<Tensor, Tensor>
{
    private readonly TinyConvNet inner;

    private RecordingNet() : base(nameof(RecordingNet))
    {
        inner = new TinyConvNet(dropoutRate: 0);
        RegisterComponents();
    }

    public List<(bool Training, double FirstColumn, double LastColumn)> Calls { get; } = [];

    public override Tensor forward(Tensor input)
    {
        using (var scope = NewDisposeScope())
        {
            long width = input.shape[3];
            Calls.Add((training, input.select(3, 0).mean().item<float>(), input.select(3, width - 1).mean().item<float>()));
        }
        return inner.forward(input);
    }

    public static RecordingNet Create(long seed)
    {
        torch.random.manual_seed(seed);
        return new RecordingNet();
    }
}

/// <summary>A small classifier: conv 3×3 → GELU → dropout → flatten → linear. Has weights, biases and a
/// stochastic layer, so training touches both parameter groups and torch's generator.</summary>
internal sealed class TinyConvNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly Dropout dropout;
    private readonly Linear head;

    public TinyConvNet(int classes = 4, int size = 8, double dropoutRate = 0.1) : base(nameof(TinyConvNet))
    {
        conv = nn.Conv2d(1, 4, 3, padding: 1);
        dropout = nn.Dropout(dropoutRate);
        head = nn.Linear(4 * size * size, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.gelu(conv.forward(input));
        h = dropout.forward(h).flatten(1);
        return head.forward(h).MoveToOuterDisposeScope();
    }

    /// <summary>A model initialised from <paramref name="seed"/> (seeds torch's generator first).</summary>
    public static TinyConvNet Create(long seed, int classes = 4, double dropoutRate = 0.1)
    {
        torch.random.manual_seed(seed);
        return new TinyConvNet(classes, dropoutRate: dropoutRate);
    }
}

/// <summary>Collects progress reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
internal sealed class ProgressLog : IProgress<TrainingProgress>
{
    private readonly Action<TrainingProgress>? _onReport;

    public ProgressLog(Action<TrainingProgress>? onReport = null) => _onReport = onReport;

    public List<TrainingProgress> Reports { get; } = [];

    public IEnumerable<TrainingProgress> Train => Reports.Where(r => r.Split == "train");

    public IEnumerable<TrainingProgress> Validation => Reports.Where(r => r.Split == "val");

    public void Report(TrainingProgress value)
    {
        Reports.Add(value);
        _onReport?.Invoke(value);
    }
}

/// <summary>A dataset whose sample i claims the canonical turn number i mod 8 (all eight symmetries of the square),
/// for the symmetry curriculum's tests; the images are those of the wrapped dataset.</summary>
internal sealed class OrientedDataset(IImageDataset inner) : IImageDataset, ICanonicalOrientation
{
    public int Count => inner.Count;
    public int NumClasses => inner.NumClasses;
    public int Channels => inner.Channels;
    public int Height => inner.Height;
    public int Width => inner.Width;
    public (TorchSharp.torch.Tensor Image, long Label) Get(int index) => inner.Get(index);

    public DihedralTurn CanonicalTurn(int index) => Turn(index % 8);

    public static DihedralTurn Turn(int code) => new(FlipX: (code & 1) != 0, FlipY: (code & 2) != 0, Transpose: (code & 4) != 0);
}
