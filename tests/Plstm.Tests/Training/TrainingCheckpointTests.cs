using Plstm.Tests.Support;
using Plstm.Training;

namespace Plstm.Tests.Training;

public class TrainingCheckpointTests
{
    private static CheckpointState State(long step) => new()
    {
        Step = step,
        TotalSteps = 100,
        Epoch = 2,
        BatchIndex = 3,
        TorchRngState = [1, 2, 3, 250],
        MixRngState = [1UL, ulong.MaxValue, 3UL, 4UL],
        BestValidationAccuracy = 0.75,
        BestStep = 40,
        TrainCount = 64,
        NumClasses = 4,
        Options = new TrainerOptions { Steps = 100, BatchSize = 8, Seed = 5 },
        SavedAt = DateTimeOffset.UnixEpoch,
    };

    /// <summary>A model with distinct weights and an optimiser with non-trivial moments (one real step).</summary>
    private static (TinyConvNet Model, AdamWOptimizer Optimizer) Trained(long seed)
    {
        var model = new TinyConvNet(dropoutRate: 0);
        using (no_grad())
        {
            var g = new Generator((ulong)seed);
            foreach (var (_, p) in model.named_parameters()) p.copy_(randn(p.shape, generator: g));
        }
        var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), 0.05);
        using (var scope = NewDisposeScope())
        {
            model.forward(ones(2, 1, 8, 8)).sum().backward();
            optimizer.SetLearningRate(1e-2);
            optimizer.Step();
        }
        return (model, optimizer);
    }

    private static Dictionary<string, float[]> Weights(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());

    /// <summary>The model's parameters are views into the optimiser's flat buffers: the model entry holds each
    /// parameter's own bytes (not the buffer once per parameter), and so does the online-weights entry.</summary>
    [Fact]
    public void Model_entries_hold_each_parameters_own_bytes()
    {
        using var folder = new TempFolder();
        string path = folder.File("last.ckpt");
        var (model, optimizer) = Trained(3);
        using (model)
        using (optimizer)
        using (var ema = new ModelEma(model, 0.9))
        {
            Assert.Contains(model.parameters(), p => p.storage_offset() > 0);
            TrainingCheckpoint.Save(path, model, optimizer, State(7), onlineWeights: ema.Average);
            long own = model.state_dict().Values.Sum(t => t.numel() * t.ElementSize);
            long buffer = optimizer.BucketValues(0).numel() * 4;
            using var archive = System.IO.Compression.ZipFile.OpenRead(path);
            foreach (string entry in new[] { TrainingCheckpoint.ModelEntry, TrainingCheckpoint.OnlineEntry })
            {
                long size = archive.GetEntry(entry)!.Length;
                Assert.True(size >= own && size < own + 512L * model.state_dict().Count + 1024,
                    $"{entry}: {size} bytes for {own} bytes of tensors (a buffer is {buffer})");
            }
        }
    }

    [Fact]
    public void Round_trip_restores_model_optimizer_and_state_exactly()
    {
        using var folder = new TempFolder();
        string path = folder.File("last.ckpt");
        var (model, optimizer) = Trained(1);
        using (model)
        using (optimizer)
        {
            TrainingCheckpoint.Save(path, model, optimizer, State(7), "{\"model\": \"tiny\"}");
            var (other, otherOptimizer) = Trained(2);
            using (other)
            using (otherOptimizer)
            {
                var state = TrainingCheckpoint.Load(path, other, otherOptimizer);
                Assert.Equal(Weights(model), Weights(other));
                var expected = optimizer.StateDict();
                var actual = otherOptimizer.StateDict();
                Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
                foreach (var key in expected.Keys)
                    Assert.True(expected[key].eq(actual[key]).all().item<bool>(), key);
                Assert.All(actual.Where(kv => kv.Key.EndsWith(".step", StringComparison.Ordinal)),
                    kv => Assert.Equal(1L, kv.Value.item<long>()));

                Assert.Equal(7, state.Step);
                Assert.Equal(new DataPosition(2, 3), state.Position);
                Assert.Equal(new byte[] { 1, 2, 3, 250 }, state.TorchRngState);
                Assert.Equal(new[] { 1UL, ulong.MaxValue, 3UL, 4UL }, state.MixRngState);
                Assert.Equal(0.75, state.BestValidationAccuracy);
                Assert.Equal(State(7).Options, state.Options);
                Assert.Equal("{\"model\": \"tiny\"}", TrainingCheckpoint.ReadConfigJson(path));
            }
        }
    }

    [Fact]
    public void Saving_and_loading_leave_no_live_tensors_behind()
    {
        using var folder = new TempFolder();
        string path = folder.File("last.ckpt");
        var (model, optimizer) = Trained(1);
        using (model) using (optimizer)
        {
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            var exported = optimizer.StateDict();
            Assert.Equal(before + exported.Count, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            foreach (var t in exported.Values) t.Dispose();
            TrainingCheckpoint.Save(path, model, optimizer, State(1));
            TrainingCheckpoint.Load(path, model, optimizer);
            Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
    }

    [Fact]
    public void Crash_before_commit_keeps_the_previous_checkpoint_and_the_leftover_tmp_is_harmless()
    {
        using var folder = new TempFolder();
        string path = folder.File("last.ckpt");
        var (first, firstOptimizer) = Trained(1);
        var (second, secondOptimizer) = Trained(2);
        using (first) using (firstOptimizer) using (second) using (secondOptimizer)
        {
            TrainingCheckpoint.Save(path, first, firstOptimizer, State(10));
            var crash = new IOException("simulated crash");
            Assert.Same(crash, Assert.Throws<IOException>(() =>
                TrainingCheckpoint.Save(path, second, secondOptimizer, State(20), null, _ => throw crash)));
            Assert.True(File.Exists(path + ".tmp")); // what a crash leaves behind

            using var probe = new TinyConvNet(dropoutRate: 0);
            Assert.Equal(10, TrainingCheckpoint.Load(path, probe).Step);
            Assert.Equal(Weights(first), Weights(probe));

            // A torn .tmp (crash mid-write) is ignored as well, and the next save replaces it.
            File.WriteAllBytes(path + ".tmp", [0x50, 0x4B, 0x03]);
            Assert.Equal(10, TrainingCheckpoint.ReadState(path).Step);
            TrainingCheckpoint.Save(path, second, secondOptimizer, State(20));
            Assert.False(File.Exists(path + ".tmp"));
            Assert.Equal(20, TrainingCheckpoint.Load(path, probe).Step);
            Assert.Equal(Weights(second), Weights(probe));
        }
    }

    [Fact]
    public void Only_a_tmp_file_is_not_a_checkpoint()
    {
        using var folder = new TempFolder();
        string path = folder.File("last.ckpt");
        File.WriteAllBytes(path + ".tmp", [1, 2, 3]);
        Assert.Throws<FileNotFoundException>(() => TrainingCheckpoint.ReadState(path));
    }

    [Fact]
    public void Mismatched_model_is_rejected_and_left_unchanged()
    {
        using var folder = new TempFolder();
        string path = folder.File("best.ckpt");
        var (model, optimizer) = Trained(1);
        using (model) using (optimizer)
        {
            TrainingCheckpoint.Save(path, model, null, State(3));
            using var wrongShape = new TinyConvNet(classes: 3, dropoutRate: 0);
            var before = Weights(wrongShape);
            var error = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(path, wrongShape));
            Assert.Contains("head.weight", error.Message);
            Assert.Equal(before, Weights(wrongShape));
            // best.ckpt style (no optimiser part): asking for the optimiser fails clearly.
            using var same = new TinyConvNet(dropoutRate: 0);
            using var sameOptimizer = new AdamWOptimizer(ParameterGroups.Split(same), 0.05);
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(path, same, sameOptimizer));
        }
    }

    [Fact]
    public void Not_a_checkpoint_is_reported_as_invalid_data()
    {
        using var folder = new TempFolder();
        string path = folder.File("x.ckpt");
        File.WriteAllText(path, "hello");
        Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.ReadState(path));
    }
}
