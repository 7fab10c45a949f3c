using Plstm.Interop;
using Plstm.Tests.Models;
using Plstm.Tests.Support;
using Plstm.Training;
using TorchSharp;
using TorchSharp.Modules;

namespace Plstm.Tests.Training;

/// <summary>
/// The multi-tensor <see cref="AdamWOptimizer"/> against <see cref="AdamWReference"/> (plain loops, float64, the
/// formulas of torch.optim.AdamW) and against TorchSharp's own AdamW: flat path, per-parameter path (a parameter
/// without a gradient, different step counts), clipping, learning-rate changes, state save/restore.
/// </summary>
public class AdamWOptimizerTests
{
    /// <summary>Awkward shapes: a matrix, a vector, a scalar-like [1], a 3-D tensor; decayed and not decayed.</summary>
    private sealed class Parts : nn.Module<Tensor, Tensor>
    {
        public Parts(ScalarType dtype, long seed) : base(nameof(Parts))
        {
            var g = new Generator((ulong)seed);
            register_parameter("a_weight", new Parameter(randn([3, 4], dtype: dtype, generator: g)));
            register_parameter("a_bias", new Parameter(randn([5], dtype: dtype, generator: g)));
            register_parameter("norm_scale", new Parameter(randn([1], dtype: dtype, generator: g)));
            register_parameter("b_kernel", new Parameter(randn([2, 3, 2], dtype: dtype, generator: g)));
            register_parameter("c_weight", new Parameter(randn([7], dtype: dtype, generator: g)));
        }

        public override Tensor forward(Tensor input) => input;
    }

    private static Dictionary<string, Tensor> RandomGrads(Parts model, long seed, double scale)
    {
        var g = new Generator((ulong)seed);
        return model.named_parameters().ToDictionary(p => p.name,
            p => (randn(p.parameter.shape, dtype: p.parameter.dtype, generator: g) * scale).DetachFromDisposeScope());
    }

    private static void SetGrads(Parts model, Dictionary<string, Tensor> grads, ISet<string>? without = null)
    {
        foreach (var (name, p) in model.named_parameters())
            p.grad = without?.Contains(name) == true ? null : grads[name].clone();
    }

    private static AdamWReference Oracle(AdamWOptimizer optimizer, double wd) =>
        new(optimizer.Parameters.Select(p => (p.Name, ToArray(p.Parameter), ParameterGroups.IsDecayed(p.Name) ? wd : 0.0)));

    private static double[] ToArray(Tensor t) => t.detach().to_type(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();

    private static void AssertMatches(AdamWOptimizer optimizer, AdamWReference oracle, double rtol, double atol, string when)
    {
        foreach (var (name, p) in optimizer.Parameters)
        {
            using var expected = tensor(oracle.Parameter(name), p.shape, ScalarType.Float64);
            TensorAssert.AssertClose(p.detach().to_type(ScalarType.Float64), expected, $"{name} {when}", rtol, atol);
        }
    }

    /// <summary>One step of both with the same random gradients (parameters in <paramref name="skip"/> get none), then
    /// the parameters compared; returns (the optimiser's norm, the oracle's).</summary>
    private static (double Norm, double Expected) StepBoth(Parts model, AdamWOptimizer optimizer, AdamWReference oracle,
        long seed, double scale, double lr, double clip, ISet<string>? skip, string when)
    {
        var grads = RandomGrads(model, seed, scale);
        SetGrads(model, grads, skip);
        optimizer.SetLearningRate(lr);
        double norm = optimizer.Step(clip);
        double expected = oracle.Step(grads.ToDictionary(kv => kv.Key,
            kv => skip?.Contains(kv.Key) == true ? null : (double[]?)ToArray(kv.Value)), lr, clip);
        AssertMatches(optimizer, oracle, 1e-12, 1e-13, when);
        foreach (var t in grads.Values) t.Dispose();
        return (norm, expected);
    }

    [Fact]
    public void Flat_steps_with_clipping_and_changing_lr_match_the_oracle_in_float64()
    {
        using var model = new Parts(ScalarType.Float64, 1);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.05);
        var oracle = Oracle(optimizer, 0.05);
        Assert.Equal(2, optimizer.BucketCount);
        // Steps 1 and 3 clip (large gradients), 2 and 4 do not; the learning rate changes every step.
        double[] scales = [10, 0.01, 5, 0.02];
        double[] lrs = [1e-3, 3e-3, 2e-2, 1e-4];
        for (int s = 0; s < scales.Length; s++)
        {
            var (norm, expectedNorm) = StepBoth(model, optimizer, oracle, 100 + s, scales[s], lrs[s], 1.0, null, $"after step {s + 1}");
            Assert.Equal(expectedNorm, norm, 12);
        }
    }

    [Fact]
    public void A_parameter_without_gradient_is_skipped_and_later_steps_follow_its_own_count()
    {
        using var model = new Parts(ScalarType.Float64, 2);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.1);
        var oracle = Oracle(optimizer, 0.1);
        var before = ToArray(model.named_parameters().First(p => p.name == "c_weight").parameter);
        for (int s = 0; s < 4; s++)
        {
            // c_weight (decayed) has no gradient in the first two steps; then its count lags the others by two,
            // so its bucket takes the per-parameter path.
            var skip = s < 2 ? new HashSet<string> { "c_weight" } : null;
            StepBoth(model, optimizer, oracle, 200 + s, 1.0, 1e-2, 0.5, skip, $"after step {s + 1}");
            // Steps 1–2: c_weight masked on the flat path; 3–4: its count lags, so its bucket goes parameter by parameter.
            Assert.Equal(s < 2 ? 0 : 1, optimizer.PerParameterBuckets);
            if (s == 1) Assert.Equal(before, ToArray(model.named_parameters().First(p => p.name == "c_weight").parameter));
        }
        var state = optimizer.StateDict();
        Assert.Equal(2, state["c_weight.step"].item<long>());
        Assert.Equal(4, state["a_weight.step"].item<long>());
        foreach (var t in state.Values) t.Dispose();
    }

    [Theory]
    [InlineData("c_weight")]     // decay group
    [InlineData("a_bias")]       // no-decay group
    public void A_parameter_that_misses_gradients_midway_keeps_its_moments(string name)
    {
        using var model = new Parts(ScalarType.Float64, 8);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.1);
        var oracle = Oracle(optimizer, 0.1);
        bool[] has = [true, false, false, true, true];
        for (int s = 0; s < has.Length; s++)
        {
            // Steps 2–3 mask it on the flat path (non-zero moments from step 1 must survive); later its count lags.
            StepBoth(model, optimizer, oracle, 800 + s, 1.0, 2e-2, 0.0, has[s] ? null : new HashSet<string> { name },
                $"after step {s + 1}");
        }
    }

    [Fact]
    public void A_never_used_parameter_keeps_the_flat_path_and_is_never_moved()
    {
        using var model = new Parts(ScalarType.Float64, 7);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.1);
        var oracle = Oracle(optimizer, 0.1);
        var unused = new HashSet<string> { "b_kernel", "norm_scale" };                  // one per group
        var before = model.named_parameters().Where(p => unused.Contains(p.name)).Select(p => ToArray(p.parameter)).ToArray();
        for (int s = 0; s < 3; s++)
        {
            StepBoth(model, optimizer, oracle, 700 + s, 2.0, 1e-2, 1.0, unused, $"after step {s + 1}");
            Assert.Equal(0, optimizer.PerParameterBuckets);
        }
        Assert.Equal(before, model.named_parameters().Where(p => unused.Contains(p.name)).Select(p => ToArray(p.parameter)).ToArray());
        var state = optimizer.StateDict();
        Assert.Equal(0, state["b_kernel.step"].item<long>());
        Assert.Equal(0.0, state["b_kernel.exp_avg_sq"].abs().sum().item<double>());
        Assert.Equal(3, state["a_weight.step"].item<long>());
        foreach (var t in state.Values) t.Dispose();
    }

    [Fact]
    public void Float32_steps_equal_torchsharps_adamw()
    {
        using var ours = new Parts(ScalarType.Float32, 3);
        using var theirs = new Parts(ScalarType.Float32, 3);
        var groups = ParameterGroups.Split(ours);
        using var optimizer = new AdamWOptimizer(groups, weightDecay: 0.05);
        var theirGroups = ParameterGroups.Split(theirs);
        using var adamW = new AdamW(new List<AdamW.ParamGroup>
        {
            new(theirGroups.Decay.Select(p => p.Parameter).ToList(), lr: 0.0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.05),
            new(theirGroups.NoDecay.Select(p => p.Parameter).ToList(), lr: 0.0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0),
        }, lr: 0.0, beta1: 0.9, beta2: 0.999, eps: 1e-8);
        for (int s = 0; s < 5; s++)
        {
            var grads = RandomGrads(ours, 300 + s, 1.0);
            SetGrads(ours, grads);
            SetGrads(theirs, grads);
            double lr = 1e-3 * (s + 1);
            optimizer.SetLearningRate(lr);
            optimizer.Step();
            foreach (var g in adamW.ParamGroups) g.LearningRate = lr;
            adamW.step();
            var theirParameters = theirs.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in ours.named_parameters())
                TensorAssert.AssertCloseFloat32(p, theirParameters[name], $"{name} after step {s + 1}");
            foreach (var t in grads.Values) t.Dispose();
        }
    }

    [Fact]
    public void Restored_state_continues_exactly_like_the_original()
    {
        using var model = new Parts(ScalarType.Float32, 4);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.05);
        for (int s = 0; s < 3; s++)
        {
            var grads = RandomGrads(model, 400 + s, 1.0);
            SetGrads(model, grads, s == 0 ? new HashSet<string> { "a_bias" } : null);
            optimizer.SetLearningRate(1e-2);
            optimizer.Step(1.0);
            foreach (var t in grads.Values) t.Dispose();
        }
        var state = optimizer.StateDict();
        using var copy = new Parts(ScalarType.Float32, 99);
        using (no_grad())
            foreach (var ((_, a), (_, b)) in model.named_parameters().Zip(copy.named_parameters())) b.copy_(a);
        using var restored = new AdamWOptimizer(ParameterGroups.Split(copy), weightDecay: 0.05);
        restored.LoadStateDict(state);
        for (int s = 3; s < 6; s++)
        {
            var grads = RandomGrads(model, 400 + s, 1.0);
            SetGrads(model, grads);
            SetGrads(copy, grads);
            optimizer.SetLearningRate(1e-2);
            restored.SetLearningRate(1e-2);
            optimizer.Step(1.0);
            restored.Step(1.0);
            foreach (var t in grads.Values) t.Dispose();
        }
        foreach (var ((name, a), (_, b)) in model.named_parameters().Zip(copy.named_parameters()))
            Assert.True(a.eq(b).all().item<bool>(), $"{name} differs after the restored run");
        foreach (var t in state.Values) t.Dispose();
    }

    [Fact]
    public void Clipping_leaves_the_parameters_gradients_alone_and_reports_the_norm()
    {
        using var model = new Parts(ScalarType.Float64, 5);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.0);
        var grads = RandomGrads(model, 500, 3.0);
        SetGrads(model, grads);
        optimizer.SetLearningRate(1e-3);
        double norm = optimizer.Step(0.1);
        double expected = Math.Sqrt(grads.Values.Sum(g => g.square().sum().item<double>()));
        Assert.Equal(expected, norm, 12);
        foreach (var (name, p) in model.named_parameters()) Assert.True(p.grad!.eq(grads[name]).all().item<bool>(), name);
        foreach (var t in grads.Values) t.Dispose();

        // No gradients at all: norm 0, nothing moves.
        foreach (var p in model.parameters()) p.grad = null;
        var values = model.parameters().Select(ToArray).ToArray();
        Assert.Equal(0.0, optimizer.Step(1.0));
        Assert.Equal(values, model.parameters().Select(ToArray).ToArray());
    }

    /// <summary>The deferred step clips on the device; in float32 it must give the parameters of clipping on the host —
    /// the norm read back, the coefficient max / (norm + 1e-6) in double, the gradients scaled by it — followed by an
    /// unclipped step, to the bit: with clipping (large gradients), without (small ones), and with
    /// gradients on the per-parameter path (a parameter without gradient).</summary>
    [Theory]
    [InlineData(20.0, false)]
    [InlineData(0.01, false)]
    [InlineData(20.0, true)]
    public void Deferred_step_equals_clipping_on_the_host_to_the_bit_in_float32(double scale, bool skipOne)
    {
        using var scope = NewDisposeScope();
        using var ours = new Parts(ScalarType.Float32, 7);
        using var theirs = new Parts(ScalarType.Float32, 7);
        using var deferred = new AdamWOptimizer(ParameterGroups.Split(ours), weightDecay: 0.05);
        using var host = new AdamWOptimizer(ParameterGroups.Split(theirs), weightDecay: 0.05);
        var skip = skipOne ? new HashSet<string> { "c_weight" } : null;
        for (int s = 0; s < 3; s++)
        {
            var grads = RandomGrads(ours, 700 + s, scale);
            SetGrads(ours, grads, skip);
            SetGrads(theirs, grads, skip);
            deferred.SetLearningRate(1e-2);
            host.SetLearningRate(1e-2);
            using var norm = deferred.StepDeferred(1.0);

            // The norm as the optimiser reduces it (per bucket), read back; the coefficient on the host.
            var present = theirs.parameters().Where(p => p.grad is not null).Select(p => p.grad!).ToArray();
            double hostNorm = norm.item<double>();
            double perParameter = linalg.vector_norm(stack(present.Select(g => linalg.vector_norm(g)).ToArray()))
                .to_type(ScalarType.Float64).item<double>();
            Assert.Equal(perParameter, hostNorm, perParameter * 1e-6);
            double coefficient = 1.0 / (hostNorm + 1e-6);
            if (coefficient < 1.0)
                using (no_grad())
                    foreach (var g in present) g.mul_(coefficient);
            host.Step();

            Assert.Equal(ScalarType.Float64, norm.dtype);
            Assert.Equal(0, norm.dim());
            foreach (var ((name, a), (_, b)) in ours.named_parameters().Zip(theirs.named_parameters()))
                Assert.True(a.eq(b).all().item<bool>(), $"{name} after step {s + 1} (scale {scale})");
            foreach (var t in grads.Values) t.Dispose();
        }
    }

    [Fact]
    public void A_non_finite_gradient_is_reported_and_not_scaled()
    {
        using var scope = NewDisposeScope();
        using var model = new Parts(ScalarType.Float32, 8);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.0);
        var grads = RandomGrads(model, 800, 50.0);
        grads["a_bias"][2] = tensor(float.PositiveInfinity);
        SetGrads(model, grads);
        optimizer.SetLearningRate(1e-3);
        Assert.Equal(double.PositiveInfinity, optimizer.Step(1.0));
        foreach (var t in grads.Values) t.Dispose();
    }

    /// <summary>Where each parameter's slot starts, from the bucket buffers: buckets are (group, device, dtype) in
    /// order of appearance, so for one device and dtype bucket 0 is the decay group and bucket 1 the other; slots
    /// follow the optimiser's parameter order within a bucket.</summary>
    private static Dictionary<string, IntPtr> SlotAddresses(AdamWOptimizer optimizer)
    {
        var offsets = new long[optimizer.BucketCount];
        var result = new Dictionary<string, IntPtr>();
        foreach (var (name, p) in optimizer.Parameters)
        {
            int b = ParameterGroups.IsDecayed(name) ? 0 : 1;
            var buffer = optimizer.BucketValues(b);
            result[name] = TensorData.Pointer(buffer) + (nint)(offsets[b] * buffer.ElementSize);
            offsets[b] += p.numel();
        }
        for (int b = 0; b < offsets.Length; b++) Assert.Equal(optimizer.BucketValues(b).numel(), offsets[b]);
        return result;
    }

    [Fact]
    public void Parameters_become_views_of_their_buckets_buffer_and_train_through_autograd_as_before()
    {
        using var model = new Parts(ScalarType.Float64, 10);
        var before = model.named_parameters().ToDictionary(p => p.name, p => (p.parameter, ToArray(p.parameter)));
        var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.05);
        var oracle = Oracle(optimizer, 0.05);
        var addresses = SlotAddresses(optimizer);
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Same(before[name].parameter, p);
            Assert.Equal(addresses[name], TensorData.Pointer(p));
            Assert.True(p.is_leaf && p.requires_grad && p.is_contiguous(), name);
            Assert.Equal(before[name].parameter.shape, p.shape);
            Assert.Equal(before[name].Item2, ToArray(p));
        }

        // Gradients from autograd through the views (a loss of the parameters), the oracle fed the same gradients.
        var g = new Generator(11);
        var weights = model.named_parameters().ToDictionary(p => p.name,
            p => randn(p.parameter.shape, dtype: ScalarType.Float64, generator: g).DetachFromDisposeScope());
        for (int s = 0; s < 4; s++)
        {
            using (var scope = NewDisposeScope())
            {
                foreach (var p in model.parameters()) p.grad = null;
                var loss = model.named_parameters().Select(p => (p.parameter * p.parameter * weights[p.name]).sum())
                    .Aggregate((a, b) => a + b);
                loss.backward();
                var grads = model.named_parameters().ToDictionary(p => p.name, p => (double[]?)ToArray(p.parameter.grad!));
                optimizer.SetLearningRate(1e-2);
                double norm = optimizer.Step(s % 2 == 0 ? 1.0 : 0.0);
                Assert.Equal(oracle.Step(grads, 1e-2, s % 2 == 0 ? 1.0 : 0.0), norm, 12);
            }
            AssertMatches(optimizer, oracle, 1e-12, 1e-13, $"after step {s + 1}");
            Assert.Equal(0, optimizer.Reflattened);
        }
        Assert.Equal(addresses, SlotAddresses(optimizer));

        // Disposing the optimiser leaves the parameters as they are: their views keep the buffer's memory.
        var values = model.parameters().Select(ToArray).ToArray();
        optimizer.Dispose();
        Assert.Equal(values, model.parameters().Select(ToArray).ToArray());
        foreach (var t in weights.Values) t.Dispose();
    }

    [Fact]
    public void A_parameter_pointed_elsewhere_is_put_back_into_its_slot_with_its_new_values()
    {
        using var model = new Parts(ScalarType.Float64, 12);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.1);
        var oracle = Oracle(optimizer, 0.1);
        var addresses = SlotAddresses(optimizer);
        for (int s = 0; s < 2; s++) StepBoth(model, optimizer, oracle, 1200 + s, 1.0, 1e-2, 1.0, null, $"after step {s + 1}");

        // A loader that replaces the storage: b_kernel now views a fresh tensor with other values.
        var kernel = model.named_parameters().First(p => p.name == "b_kernel").parameter;
        using var fresh = randn(kernel.shape, dtype: ScalarType.Float64, generator: new Generator(13));
        using (no_grad()) kernel.set_(fresh);
        Assert.NotEqual(addresses["b_kernel"], TensorData.Pointer(kernel));
        Array.Copy(ToArray(fresh), oracle.Parameter("b_kernel"), fresh.numel());    // the oracle's run from those values

        StepBoth(model, optimizer, oracle, 1202, 1.0, 1e-2, 1.0, null, "after the step that puts it back");
        Assert.Equal(1, optimizer.Reflattened);
        Assert.Equal(addresses["b_kernel"], TensorData.Pointer(kernel));
        StepBoth(model, optimizer, oracle, 1203, 1.0, 1e-2, 1.0, null, "one step later");
        Assert.Equal(0, optimizer.Reflattened);
        Assert.Equal(addresses, SlotAddresses(optimizer));
    }

    [Fact]
    public void A_parameter_with_another_shape_or_replaced_by_a_conversion_is_refused_by_name()
    {
        using (var model = new Parts(ScalarType.Float32, 14))
        using (var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.1))
        {
            SetGrads(model, RandomGrads(model, 1400, 1.0));
            var weight = model.named_parameters().First(p => p.name == "a_weight").parameter;
            using var other = zeros(4, 3);
            using (no_grad()) weight.set_(other);
            var error = Assert.Throws<InvalidOperationException>(() => optimizer.Step());
            Assert.Contains("'a_weight'", error.Message);
            Assert.Contains("shape [4, 3]", error.Message);
            Assert.Contains("create the optimiser after the model has been moved", error.Message);
        }

        // Module.to with another dtype puts new float64 parameters into the module and disposes the old ones, which
        // the optimiser holds.
        using (var model = new Parts(ScalarType.Float32, 15))
        using (var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.1))
        {
            model.to(ScalarType.Float64);
            SetGrads(model, RandomGrads(model, 1500, 1.0));
            var error = Assert.Throws<InvalidOperationException>(() => optimizer.Step(1.0));
            Assert.Contains($"'{optimizer.Parameters[0].Name}' has been disposed", error.Message);
            Assert.Contains("converted to its dtype", error.Message);
        }
    }

    [Fact]
    public void A_parameter_without_gradient_on_the_flat_path_comes_out_bit_identical()
    {
        using var model = new Parts(ScalarType.Float32, 16);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.1);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        optimizer.SetLearningRate(1e-2);
        var grads = RandomGrads(model, 1600, 1.0);
        SetGrads(model, grads);
        optimizer.Step();                                   // every parameter: non-zero moments, count 1
        foreach (string name in new[] { "c_weight", "a_bias" })            // decay group, no-decay group
        {
            using var value = parameters[name].detach().clone();
            var state = optimizer.StateDict();
            var others = parameters.Where(p => p.Key != name).ToDictionary(p => p.Key, p => p.Value.detach().clone());
            SetGrads(model, grads, new HashSet<string> { name });
            optimizer.Step();
            Assert.Equal(0, optimizer.PerParameterBuckets);                  // all with gradients have count 1: flat
            Assert.True(parameters[name].SameAs(value), $"{name} moved");
            var after = optimizer.StateDict();
            foreach (string key in new[] { ".exp_avg", ".exp_avg_sq", ".step" })
                Assert.True(after[name + key].SameAs(state[name + key]), $"{name}{key} changed");
            Assert.All(others, o => Assert.False(parameters[o.Key].SameAs(o.Value), $"{o.Key} did not move"));
            foreach (var t in state.Values.Concat(after.Values).Concat(others.Values)) t.Dispose();
            // Give it its step back so the next round is on the flat path again.
            SetGrads(model, grads, parameters.Keys.Where(k => k != name).ToHashSet());
            optimizer.Step();
        }
        foreach (var t in grads.Values) t.Dispose();
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_many_steps_on_every_path()
    {
        using var model = new Parts(ScalarType.Float32, 17);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), weightDecay: 0.1);
        var grads = RandomGrads(model, 1700, 1.0);
        optimizer.SetLearningRate(1e-3);
        var kernel = model.named_parameters().First(p => p.name == "b_kernel").parameter;
        using var fresh = randn(kernel.shape);
        static long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long before = 0;
        for (int s = 0; s < 40; s++)
        {
            // 0–9 flat; 10–19 flat through StepDeferred with clipping, b_kernel re-pointed once (put back by the step);
            // 20–29 c_weight without gradient (masked flat path); 30–39 its count lags (per parameter).
            if (s is 0 or 20 or 30)
            {
                // New gradient tensors (the old ones stay alive in this test): count from here.
                SetGrads(model, grads, s == 20 ? new HashSet<string> { "c_weight" } : null);
                before = Live();
            }
            if (s == 15) using (no_grad()) kernel.set_(fresh);
            if (s is >= 10 and < 20)
                using (var norm = optimizer.StepDeferred(0.5)) Assert.True(norm.item<double>() > 0);
            else
                optimizer.Step();
            Assert.Equal(s >= 30 ? 1 : 0, optimizer.PerParameterBuckets);
            Assert.Equal(s == 15 ? 1 : 0, optimizer.Reflattened);
            Assert.Equal(before, Live());
        }
        foreach (var t in grads.Values) t.Dispose();
    }

    [Fact]
    public void Bad_arguments_name_themselves()
    {
        using var model = new Parts(ScalarType.Float32, 6);
        var groups = ParameterGroups.Split(model);
        Assert.Equal("weightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptimizer(groups, -1)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptimizer(groups, 0, beta2: 1.0)).ParamName);
        using var optimizer = new AdamWOptimizer(groups, 0.05);
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.SetLearningRate(double.NaN)).ParamName);
        Assert.Equal("maxGradNorm", Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.Step(-1)).ParamName);
    }
}

/// <summary>
/// AdamW as plain float64 loops (torch.optim.AdamW, decoupled decay, bias correction, per-parameter step counts, no
/// update for a parameter without gradient) with global-norm clipping over all given gradients: the oracle of
/// <see cref="AdamWOptimizer"/>.
/// </summary>
public sealed class AdamWReference(IEnumerable<(string Name, double[] Value, double WeightDecay)> parameters,
    double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
{
    private readonly Dictionary<string, State> _states = parameters.ToDictionary(p => p.Name,
        p => new State((double[])p.Value.Clone(), new double[p.Value.Length], new double[p.Value.Length], p.WeightDecay));

    /// <summary>The current value of a parameter.</summary>
    public double[] Parameter(string name) => _states[name].P;

    /// <summary>One step; null gradients skip their parameter. Returns the global norm before clipping.</summary>
    public double Step(IReadOnlyDictionary<string, double[]?> grads, double lr, double maxNorm)
    {
        double sum = 0;
        foreach (var g in grads.Values)
            if (g is not null)
                foreach (double x in g) sum += x * x;
        double norm = Math.Sqrt(sum);
        double coefficient = maxNorm > 0 && maxNorm / (norm + 1e-6) < 1 ? maxNorm / (norm + 1e-6) : 1.0;
        foreach (var (name, s) in _states)
        {
            if (grads[name] is not double[] g) continue;
            s.Step++;
            double bias1 = 1 - Math.Pow(beta1, s.Step), bias2 = 1 - Math.Pow(beta2, s.Step);
            for (int i = 0; i < s.P.Length; i++)
            {
                double gi = g[i] * coefficient;
                s.P[i] *= 1 - lr * s.WeightDecay;
                s.M[i] = beta1 * s.M[i] + (1 - beta1) * gi;
                s.V[i] = beta2 * s.V[i] + (1 - beta2) * gi * gi;
                s.P[i] -= lr / bias1 * s.M[i] / (Math.Sqrt(s.V[i]) / Math.Sqrt(bias2) + eps);
            }
        }
        return norm;
    }

    private sealed class State(double[] p, double[] m, double[] v, double weightDecay)
    {
        public double[] P { get; } = p;
        public double[] M { get; } = m;
        public double[] V { get; } = v;
        public double WeightDecay { get; } = weightDecay;
        public long Step { get; set; }
    }
}
