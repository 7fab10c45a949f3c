using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Plstm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Data.Text;

/// <summary>
/// A text corpus as raw bytes for byte-level language models: any file, validated as UTF-8, split by position into
/// the first 90 % (train) and the last 10 % (validation), with seeded random contiguous windows <c>[B, T+1]</c> for
/// training (inputs = first T, targets = last T) and sequential windows for evaluation.
/// </summary>
/// <remarks>
/// The default corpus is tiny Shakespeare (<see cref="TinyShakespeareFileName"/>, 1,115,394 bytes, sha256
/// <see cref="TinyShakespeareSha256"/>), found by <see cref="LocateTinyShakespeare"/> in an explicit path,
/// <c>$PLSTM_DATA/text/</c> or <c>&lt;repo&gt;/../shared/data/text/</c> (see <see cref="DataPaths"/>).
/// </remarks>
public sealed class ByteCorpus
{
    /// <summary>Data set folder name under a data root.</summary>
    public const string DataSetName = "text";

    /// <summary>File name of the default corpus.</summary>
    public const string TinyShakespeareFileName = "tinyshakespeare.txt";

    /// <summary>Size of the default corpus in bytes.</summary>
    public const int TinyShakespeareLength = 1_115_394;

    /// <summary>sha256 of the default corpus (lower-case hex), from its README.</summary>
    public const string TinyShakespeareSha256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed";

    /// <summary>Fraction of the bytes (from the start) that form the training split.</summary>
    public const double TrainFraction = 0.9;

    /// <summary>Stream id of the window draws in <see cref="TrainingRandom.ForStream"/> (shuffle = 1, mix = 2).</summary>
    public const ulong WindowStream = 3;

    private readonly byte[] _bytes;

    private ByteCorpus(byte[] bytes, string source)
    {
        _bytes = bytes;
        Source = source;
        TrainLength = (int)((long)bytes.Length * 9 / 10);                                   // floor(0.9 · n), exactly
    }

    /// <summary>Where the bytes came from (a path or the name given to <see cref="FromBytes"/>).</summary>
    public string Source { get; }

    /// <summary>All bytes.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>Total number of bytes.</summary>
    public int Length => _bytes.Length;

    /// <summary>Bytes in the training split: <c>floor(0.9 · Length)</c>.</summary>
    public int TrainLength { get; }

    /// <summary>Bytes in the validation split: <c>Length − TrainLength</c>.</summary>
    public int ValidationLength => _bytes.Length - TrainLength;

    /// <summary>The bytes of <paramref name="split"/>: train = <c>[0, TrainLength)</c>, validation = the rest.</summary>
    public ReadOnlyMemory<byte> Split(CorpusSplit split) => split switch
    {
        CorpusSplit.Train => _bytes.AsMemory(0, TrainLength),
        CorpusSplit.Validation => _bytes.AsMemory(TrainLength),
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "unknown split"),
    };

    /// <summary>sha256 of all bytes, lower-case hex.</summary>
    public string Sha256() => Convert.ToHexStringLower(SHA256.HashData(_bytes));

    /// <summary>Reads <paramref name="path"/> as bytes and validates it (see <see cref="FromBytes"/>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is empty or not valid UTF-8 (the message names the file and the
    /// byte offset of the first invalid sequence).</exception>
    public static ByteCorpus Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"Text corpus '{full}' does not exist.", full);
        return FromBytes(File.ReadAllBytes(full), full);
    }

    /// <summary>Wraps <paramref name="bytes"/> (not copied) after validating them.</summary>
    /// <param name="bytes">The corpus.</param>
    /// <param name="source">Name used in messages (e.g. the file path).</param>
    /// <exception cref="InvalidDataException">Empty, or not valid UTF-8 (the message names <paramref name="source"/>
    /// and the byte offset of the first invalid sequence).</exception>
    public static ByteCorpus FromBytes(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(source);
        if (bytes.Length == 0)
            throw new InvalidDataException($"Text corpus '{source}' is empty: a corpus needs at least one byte.");
        if (FindInvalidUtf8(bytes) is long offset)
            throw new InvalidDataException(
                $"Text corpus '{source}' is not valid UTF-8: invalid byte 0x{bytes[offset]:X2} at byte offset {offset}.");
        return new ByteCorpus(bytes, source);
    }

    /// <summary>The offset of the first byte that does not start a valid UTF-8 sequence (an incomplete sequence at the
    /// end counts), or null when all of <paramref name="bytes"/> is valid UTF-8.</summary>
    public static long? FindInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes)) return null;
        int offset = 0;
        while (offset < bytes.Length)
        {
            var status = Rune.DecodeFromUtf8(bytes[offset..], out _, out int consumed);
            if (status != System.Buffers.OperationStatus.Done) return offset;
            offset += consumed;
        }
        return null;
    }

    /// <summary>
    /// The default corpus file: <paramref name="explicitPath"/> when given (a file, or a folder holding
    /// <c>tinyshakespeare.txt</c> directly or in <c>text/</c>), else <c>$PLSTM_DATA/text/tinyshakespeare.txt</c>, else
    /// <c>&lt;repo&gt;/../shared/data/text/tinyshakespeare.txt</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">Not found; the message lists every path tried.</exception>
    public static string LocateTinyShakespeare(string? explicitPath = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath) && File.Exists(explicitPath))
            return Path.GetFullPath(explicitPath);
        var tried = DataPaths.Candidates(explicitPath, DataSetName)
            .Select(dir => Path.Combine(dir, TinyShakespeareFileName)).ToList();
        foreach (var file in tried)
            if (File.Exists(file)) return file;
        throw new FileNotFoundException(
            $"The default text corpus '{TinyShakespeareFileName}' was not found. Tried: {string.Join(", ", tried)}. " +
            $"Pass a path, or set {DataPaths.EnvironmentVariable} to a folder holding {DataSetName}/{TinyShakespeareFileName}.");
    }

    /// <summary>
    /// Loads tiny Shakespeare (<see cref="LocateTinyShakespeare"/>) and, with <paramref name="verifyChecksum"/>, checks
    /// its sha256 against <see cref="TinyShakespeareSha256"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">Not found.</exception>
    /// <exception cref="InvalidDataException">Invalid UTF-8, empty, or a checksum mismatch.</exception>
    public static ByteCorpus LoadTinyShakespeare(string? explicitPath = null, bool verifyChecksum = true)
    {
        var corpus = Load(LocateTinyShakespeare(explicitPath));
        if (verifyChecksum && corpus.Sha256() is var hash && hash != TinyShakespeareSha256)
            throw new InvalidDataException(
                $"'{corpus.Source}' has sha256 {hash}, expected {TinyShakespeareSha256} for tiny Shakespeare.");
        return corpus;
    }

    /// <summary>
    /// <paramref name="batchSize"/> random contiguous windows of <paramref name="sequenceLength"/> + 1 bytes from
    /// <paramref name="split"/>, start offsets uniform over every possible start, drawn from <paramref name="random"/>.
    /// </summary>
    /// <returns>int64 <c>[B, T+1]</c> on the CPU: inputs <c>[:, :T]</c>, next-byte targets <c>[:, 1:]</c>.</returns>
    /// <exception cref="ArgumentException">Non-positive sizes, or a split shorter than T + 1 bytes.</exception>
    public Tensor SampleWindows(CorpusSplit split, int batchSize, int sequenceLength, TrainingRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var data = CheckWindow(split, batchSize, sequenceLength).Span;
        int width = sequenceLength + 1;
        int starts = data.Length - width + 1;
        var values = new long[(long)batchSize * width];
        for (int b = 0; b < batchSize; b++)
        {
            int start = random.NextInt(starts);
            for (int i = 0; i < width; i++) values[(long)b * width + i] = data[start + i];
        }
        return tensor(values, new long[] { batchSize, width }, ScalarType.Int64);
    }

    /// <summary>
    /// The training batch of step <paramref name="step"/>: <see cref="SampleWindows"/> on the train split with the
    /// generator <c>TrainingRandom.ForStream(seed, WindowStream, step)</c>, a pure function of (seed, step), so a
    /// resumed run draws the same batches without stored generator state.
    /// </summary>
    public Tensor TrainingBatch(int batchSize, int sequenceLength, long seed, long step) =>
        SampleWindows(CorpusSplit.Train, batchSize, sequenceLength, TrainingRandom.ForStream(seed, WindowStream, step));

    /// <summary>
    /// Non-overlapping evaluation windows of <paramref name="split"/>: window j covers bytes
    /// <c>[j·T, j·T + T + 1)</c> (consecutive windows share one byte, so every byte after the first is a target exactly
    /// once), grouped into batches of at most <paramref name="batchSize"/> windows; a tail shorter than T + 1 bytes is
    /// dropped. At most <paramref name="maxWindows"/> windows (null = all).
    /// </summary>
    /// <returns>int64 <c>[b, T+1]</c> tensors on the CPU (the caller disposes them).</returns>
    /// <exception cref="ArgumentException">Non-positive sizes, or a split shorter than T + 1 bytes (thrown at the call).</exception>
    public IEnumerable<Tensor> SequentialWindows(CorpusSplit split, int batchSize, int sequenceLength, int? maxWindows = null)
    {
        var data = CheckWindow(split, batchSize, sequenceLength);
        return SequentialWindowsCore(data, batchSize, sequenceLength, maxWindows);
    }

    private static IEnumerable<Tensor> SequentialWindowsCore(ReadOnlyMemory<byte> data, int batchSize, int sequenceLength,
        int? maxWindows)
    {
        int width = sequenceLength + 1;
        int count = (data.Length - 1) / sequenceLength;
        if (maxWindows is int max) count = Math.Min(count, Math.Max(max, 0));
        for (int first = 0; first < count; first += batchSize)
        {
            int n = Math.Min(batchSize, count - first);
            var values = new long[(long)n * width];
            var span = data.Span;
            for (int b = 0; b < n; b++)
            {
                int start = (first + b) * sequenceLength;
                for (int i = 0; i < width; i++) values[(long)b * width + i] = span[start + i];
            }
            yield return tensor(values, new long[] { n, width }, ScalarType.Int64);
        }
    }

    private ReadOnlyMemory<byte> CheckWindow(CorpusSplit split, int batchSize, int sequenceLength)
    {
        if (batchSize <= 0) throw new ArgumentException($"batchSize must be positive, got {batchSize}.", nameof(batchSize));
        if (sequenceLength <= 0)
            throw new ArgumentException($"sequenceLength must be positive, got {sequenceLength}.", nameof(sequenceLength));
        var data = Split(split);
        if (data.Length < sequenceLength + 1)
            throw new ArgumentException(
                $"The {split} split of '{Source}' has {data.Length} bytes, fewer than a window of sequenceLength + 1 = " +
                $"{sequenceLength + 1}.", nameof(sequenceLength));
        return data;
    }
}
