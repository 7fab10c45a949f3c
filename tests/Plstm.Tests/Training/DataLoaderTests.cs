using Plstm.Training;

namespace Plstm.Tests.Training;

public class DataLoaderTests
{
    private static (float[] Images, long[] Labels, int[] Indices, DataPosition Position) Snapshot(Batch batch) =>
        (batch.Images.data<float>().ToArray(), batch.Labels.data<long>().ToArray(), batch.Indices.ToArray(), batch.Position);

    [Fact]
    public void Batches_have_the_declared_shapes_and_match_the_dataset()
    {
        var data = new SyntheticDataset(count: 20);
        var loader = new DataLoader(data, batchSize: 6, seed: 3);
        Assert.Equal(3, loader.BatchesPerEpoch); // drop-last: 20 / 6
        foreach (var batch in loader.ReadEpoch(0))
        {
            using var owned = batch;
            Assert.Equal(new long[] { 6, 1, 8, 8 }, batch.Images.shape);
            Assert.Equal(ScalarType.Float32, batch.Images.dtype);
            Assert.Equal(new long[] { 6 }, batch.Labels.shape);
            Assert.Equal(ScalarType.Int64, batch.Labels.dtype);
            for (int i = 0; i < batch.Size; i++)
            {
                var (image, label) = data.Get(batch.Indices[i]);
                using (image)
                {
                    Assert.Equal(label, batch.Labels[i].item<long>());
                    Assert.True(batch.Images[i].eq(image).all().item<bool>());
                }
            }
        }
    }

    [Fact]
    public void Each_epoch_is_a_seeded_permutation()
    {
        var data = new SyntheticDataset(count: 20);
        var loader = new DataLoader(data, batchSize: 5, seed: 3, dropLast: false);
        Assert.Equal(Enumerable.Range(0, 20), loader.EpochOrder(0).Order());
        Assert.NotEqual(loader.EpochOrder(0), loader.EpochOrder(1));
        Assert.Equal(loader.EpochOrder(1), new DataLoader(data, 5, seed: 3).EpochOrder(1));
        Assert.NotEqual(loader.EpochOrder(1), new DataLoader(data, 5, seed: 4).EpochOrder(1));
        Assert.Equal(Enumerable.Range(0, 20), new DataLoader(data, 5, shuffle: false).EpochOrder(7));
        var seen = new List<int>();
        foreach (var batch in loader.ReadEpoch(2)) using (batch) seen.AddRange(batch.Indices);
        Assert.Equal(loader.EpochOrder(2), seen);
    }

    [Fact]
    public void Without_drop_last_the_last_batch_is_smaller()
    {
        var data = new SyntheticDataset(count: 13);
        var loader = new DataLoader(data, batchSize: 5, shuffle: false, dropLast: false);
        var sizes = loader.ReadEpoch().Select(b => { using (b) return b.Size; }).ToList();
        Assert.Equal(new[] { 5, 5, 3 }, sizes);
        Assert.Equal(2, DataLoader.CountBatches(13, 5, dropLast: true));
    }

    [Fact]
    public void Prefetching_does_not_change_the_batches_and_a_position_resumes_the_stream()
    {
        var data = new SyntheticDataset(count: 22);
        var withPrefetch = new DataLoader(data, 4, seed: 9, prefetch: true);
        var without = new DataLoader(data, 4, seed: 9, prefetch: false);
        var a = withPrefetch.Read(DataPosition.Start).Take(17).Select(b => { using (b) return Snapshot(b); }).ToList();
        var b = without.Read(DataPosition.Start).Take(17).Select(b => { using (b) return Snapshot(b); }).ToList();
        Assert.Equal(a.Select(x => x.Position), b.Select(x => x.Position));
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Images, b[i].Images);
            Assert.Equal(a[i].Labels, b[i].Labels);
            Assert.Equal(a[i].Indices, b[i].Indices);
        }
        // 5 batches per epoch: batch 12 is epoch 2, index 2; reading from there gives the same tail.
        Assert.Equal(new DataPosition(2, 2), a[12].Position);
        var resumed = withPrefetch.Read(a[12].Position).Take(5).Select(x => { using (x) return Snapshot(x); }).ToList();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(a[12 + i].Images, resumed[i].Images);
            Assert.Equal(a[12 + i].Position, resumed[i].Position);
        }
        Assert.Equal(new DataPosition(3, 0), new DataPosition(2, 4).Next(5));
        Assert.Equal(new DataPosition(2, 2), DataPosition.AfterSteps(12, 5));
    }

    [Fact]
    public void Consumer_thread_live_tensor_count_stays_flat()
    {
        var data = new SyntheticDataset(count: 32);
        var loader = new DataLoader(data, 4, seed: 1, prefetch: true);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        int n = 0;
        foreach (var batch in loader.Read(DataPosition.Start))
        {
            using (batch)
            {
                if (++n == 50) break;
            }
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Abandoned_enumeration_waits_for_the_prefetch()
    {
        var data = new SyntheticDataset(count: 16);
        var loader = new DataLoader(data, 4, seed: 1, prefetch: true);
        using (var e = loader.Read(DataPosition.Start).GetEnumerator())
        {
            Assert.True(e.MoveNext());
            e.Current.Dispose();
        }
        int reads = data.Reads;
        Thread.Sleep(50);
        Assert.Equal(8, reads); // the first batch and the one prefetched, nothing after dispose
        Assert.Equal(reads, data.Reads);
    }

    [Fact]
    public void Bad_batch_size_is_rejected()
    {
        var data = new SyntheticDataset(count: 3);
        Assert.Equal("batchSize", Assert.Throws<ArgumentException>(() => new DataLoader(data, 0)).ParamName);
        Assert.Equal("batchSize", Assert.Throws<ArgumentException>(() => new DataLoader(data, 4, dropLast: true)).ParamName);
    }
}
