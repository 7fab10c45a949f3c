using System.Collections.Concurrent;
using Plstm.Data;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Mini-batches over an <see cref="IImageDataset"/>: optionally shuffled with a fresh permutation per epoch that is a
/// pure function of (seed, epoch), so a position (epoch, batch index) fully determines every later batch and a run can
/// resume from it. While the consumer trains on one batch, the next one is assembled on a background task.
/// </summary>
/// <remarks>
/// <para>Determinism: a batch's content depends only on the seed, the epoch and the batch index, never on timing or
/// on whether prefetching is on.</para>
/// <para>Threads and tensors: TorchSharp counts live tensors and dispose scopes per thread. The background task
/// therefore creates and disposes the per-sample tensors itself and hands over plain arrays; the batch tensors are
/// created on the consuming thread, which then owns and disposes them. No tensor crosses a thread boundary.</para>
/// </remarks>
public sealed class DataLoader
{
    private readonly int _channels, _height, _width;

    // Pixel buffers of full batches, reused: a fresh array of a batch's size (56 MB at 192 px, batch 128) is new memory
    // to the process each time, and touching it the first time cost more than filling it (page faults: 130-180 ms
    // against 8-18 ms on the 2-core machine). At most two are in flight (one filled ahead, one being copied).
    private readonly ConcurrentBag<float[]> _pixelBuffers = [];
    private const int KeptPixelBuffers = 2;

    /// <summary>Creates a loader.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (positive).</param>
    /// <param name="shuffle">Shuffle each epoch (training) or keep the dataset order (evaluation).</param>
    /// <param name="seed">Seed of the per-epoch permutations.</param>
    /// <param name="dropLast">Drop the last, incomplete batch of each epoch.</param>
    /// <param name="prefetch">Build the next batch on a background task while the current one is used.</param>
    /// <param name="pinMemory">Put the batches in pinned (page-locked) host memory, from which a CUDA device copies them
    /// without the host waiting (<c>to(device, non_blocking: true)</c>); needs CUDA.</param>
    /// <exception cref="ArgumentException">Bad batch size, an epoch would contain no batch, or pinned memory without
    /// CUDA.</exception>
    public DataLoader(IImageDataset dataset, int batchSize, bool shuffle = true, long seed = 0, bool dropLast = true,
        bool prefetch = true, bool pinMemory = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize <= 0)
            throw new ArgumentException($"The batch size must be positive (got {batchSize}).", nameof(batchSize));
        if (pinMemory && !cuda.is_available())
            throw new ArgumentException("Pinned memory needs CUDA, which is not available here; leave pinMemory off.",
                nameof(pinMemory));
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        Prefetch = prefetch;
        PinMemory = pinMemory;
        (_channels, _height, _width) = (dataset.Channels, dataset.Height, dataset.Width);
        BatchesPerEpoch = CountBatches(dataset.Count, batchSize, dropLast);
        if (BatchesPerEpoch == 0)
            throw new ArgumentException(
                $"The dataset has {dataset.Count} samples: no {(dropLast ? "complete " : "")}batch of {batchSize} fits in an epoch.",
                nameof(batchSize));
    }

    /// <summary>The dataset.</summary>
    public IImageDataset Dataset { get; }

    /// <summary>Samples per (full) batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Seed of the per-epoch permutations.</summary>
    public long Seed { get; }

    /// <summary>Whether the incomplete last batch of an epoch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>Whether batches are built ahead on a background task.</summary>
    public bool Prefetch { get; }

    /// <summary>Whether batches come in pinned host memory.</summary>
    public bool PinMemory { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>Batches per epoch for <paramref name="count"/> samples.</summary>
    public static int CountBatches(int count, int batchSize, bool dropLast)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return dropLast ? count / batchSize : (count + batchSize - 1) / batchSize;
    }

    /// <summary>The sample order of <paramref name="epoch"/>: a permutation derived from (seed, epoch), or the identity
    /// when not shuffling.</summary>
    public int[] EpochOrder(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (!Shuffle) return Enumerable.Range(0, Dataset.Count).ToArray();
        return TrainingRandom.ForStream(Seed, TrainingRandom.ShuffleStream, epoch).Permutation(Dataset.Count);
    }

    /// <summary>The dataset indices of the batch at <paramref name="position"/>.</summary>
    public int[] BatchIndices(DataPosition position) => Slice(EpochOrder(position.Epoch), position.BatchIndex);

    /// <summary>
    /// Batches from <paramref name="start"/> on, epoch after epoch without end (the caller stops). Dispose the
    /// enumerator (a <c>foreach</c> does) so that a batch still being prefetched is awaited.
    /// </summary>
    public IEnumerable<Batch> Read(DataPosition start) => ReadCore(start, endless: true);

    /// <summary>All batches of one epoch, in order.</summary>
    public IEnumerable<Batch> ReadEpoch(int epoch = 0) => ReadCore(new DataPosition(epoch, 0), endless: false);

    private IEnumerable<Batch> ReadCore(DataPosition start, bool endless)
    {
        if (start.Epoch < 0 || start.BatchIndex < 0 || start.BatchIndex >= BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(start), start,
                $"The position must have a batch index in [0, {BatchesPerEpoch}).");
        return Iterate(start, endless);
    }

    private IEnumerable<Batch> Iterate(DataPosition start, bool endless)
    {
        int orderEpoch = -1;
        int[] order = [];
        HostBatch Build(DataPosition position)
        {
            // Runs on the consumer's thread, in order: the permutation cache needs no lock.
            if (position.Epoch != orderEpoch)
            {
                order = EpochOrder(position.Epoch);
                orderEpoch = position.Epoch;
            }
            return new HostBatch(position, Slice(order, position.BatchIndex));
        }

        var position = start;
        Task<HostBatch>? pending = null;
        try
        {
            var first = Build(position);
            if (Prefetch) pending = Task.Run(() => Fill(first));
            else Fill(first);
            var current = first;
            while (true)
            {
                if (pending is not null)
                {
                    current = pending.GetAwaiter().GetResult();
                    pending = null;
                }
                var next = position.Next(BatchesPerEpoch);
                bool hasNext = endless || next.Epoch == start.Epoch;
                HostBatch? upcoming = hasNext ? Build(next) : null;
                // Start the next batch before handing this one out, so it is built while the caller trains.
                if (upcoming is not null && Prefetch) pending = Task.Run(() => Fill(upcoming));

                yield return ToBatch(current);

                if (upcoming is null) yield break;
                if (!Prefetch) Fill(upcoming);
                current = upcoming;
                position = next;
            }
        }
        finally
        {
            // Never leave a task reading the dataset behind an abandoned enumerator; its result is not needed.
            if (pending is not null)
            {
                try
                {
                    pending.GetAwaiter().GetResult();
                }
                catch (Exception)
                {
                    // The batch was not going to be used; its error does not matter any more.
                }
            }
        }
    }

    private int[] Slice(int[] order, int batchIndex)
    {
        int begin = batchIndex * BatchSize;
        int length = Math.Min(BatchSize, order.Length - begin);
        if (batchIndex < 0 || batchIndex >= BatchesPerEpoch || length <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchIndex), batchIndex,
                $"The batch index must be in [0, {BatchesPerEpoch}).");
        return order.AsSpan(begin, length).ToArray();
    }

    /// <summary>Reads the samples into managed arrays (<see cref="ImageBatch.Fill"/>: the dataset's own batch fill when
    /// it has one, else a <see cref="IImageDataset.Get"/> per sample). Safe on any thread: every tensor it touches is
    /// created and disposed inside its own dispose scope on that thread.</summary>
    private HostBatch Fill(HostBatch host)
    {
        long length = (long)host.Indices.Length * _channels * _height * _width;
        var pixels = host.Indices.Length == BatchSize && _pixelBuffers.TryTake(out var kept) ? kept : new float[length];
        var labels = new long[host.Indices.Length];
        ImageBatch.Fill(Dataset, host.Indices, pixels, labels);
        host.Pixels = pixels;
        host.Labels = labels;
        return host;
    }

    private Batch ToBatch(HostBatch host)
    {
        // One copy out of each managed buffer (viewed, not copied, by from_array): into pinned memory, or into
        // libtorch's own; the buffers can then be reused.
        Tensor Own(Array values, long[] shape)
        {
            using var shared = from_array(values);
            using var view = shared.view(shape);
            return PinMemory ? view.pin_memory() : view.clone();
        }
        var images = Own(host.Pixels!, [host.Indices.Length, _channels, _height, _width]);
        var labels = Own(host.Labels!, [host.Indices.Length]);
        if (host.Indices.Length == BatchSize && _pixelBuffers.Count < KeptPixelBuffers) _pixelBuffers.Add(host.Pixels!);
        host.Pixels = null;
        return new Batch(images, labels, host.Position, host.Indices);
    }

    private sealed class HostBatch(DataPosition position, int[] indices)
    {
        public DataPosition Position { get; } = position;
        public int[] Indices { get; } = indices;
        public float[]? Pixels { get; set; }
        public long[]? Labels { get; set; }
    }
}
