using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// AdamW over the two parameter groups of <see cref="ParameterGroups"/> (weight decay on the decay group, none on the
/// other), with global-norm gradient clipping built in and an exact, device-independent save/restore of its state by
/// parameter name: per parameter the step count and the <c>exp_avg</c> / <c>exp_avg_sq</c> moment tensors.
/// </summary>
/// <remarks>
/// <para>Update (PyTorch's <c>torch.optim.AdamW</c>, the op sequence of TorchSharp's): <c>p ← p·(1 − lr·wd)</c>;
/// <c>m ← β₁m + (1 − β₁)g</c>; <c>v ← β₂v + (1 − β₂)g²</c>; <c>p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)</c>,
/// with t the parameter's own step count. Parameters without a gradient are skipped (no decay, no step count), as in
/// PyTorch. The tests compare it with a plain-loop float64 oracle of these formulas (<c>AdamWReference</c> in the test
/// project) and with TorchSharp's own <c>torch.optim.AdamW</c>.</para>
/// <para><b>Multi-tensor form.</b> The moments of each group live in one flat buffer per device and dtype (a
/// "bucket"); a step gathers the bucket's gradients and parameters with one <c>cat</c> each, runs the update as about
/// ten element-wise ops over the whole bucket, and copies the parameters back (one copy per parameter). The
/// per-parameter form issued about ten ops per parameter plus two for clipping — for pLSTM-ViT-T's 318 parameter
/// tensors some 3,800 ops, each ≈ 13 µs of launch overhead on CUDA — and created five temporary TorchSharp
/// <c>Scalar</c>s per parameter, objects with finalizers (every Scalar here is created and disposed explicitly).
/// A parameter without a gradient takes part with a zero gradient and is then restored (with its moments), so it is
/// skipped as in PyTorch; only a bucket whose parameters with gradients have different step counts (possible after
/// such a skip) is updated parameter by parameter, with the same formula on views of the flat moments.</para>
/// <para><b>Clipping</b> (<see cref="Step(double)"/>): the global L2 norm of all gradients is the norm of the
/// buckets' flat gradient vectors (<c>torch.nn.utils.clip_grad_norm_</c> takes the norm of per-tensor norms: the same
/// number up to float rounding); above the maximum, the gathered gradients are scaled by <c>max / (norm + 1e-6)</c>.
/// The optimiser scales its own gathered copies; the parameters' <c>.grad</c> tensors are left as they are.</para>
/// <para>Why not TorchSharp's own <c>save_state_dict</c>: it writes the state in group order through
/// <c>Tensor.Load</c>, which does not work for tensors on CUDA and ties the file to the exact parameter order. Here the
/// state is exported as CPU copies keyed by name and restored with <c>copy_</c> into the live state tensors, which
/// is bit-exact and works on any device.</para>
/// <para>The moment tensors are created when the optimiser is constructed, so construct it after the model has been
/// moved to its device and outside any dispose scope that ends before training does.</para>
/// </remarks>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly List<(string Name, Parameter Parameter)> _ordered;
    private readonly Slot[] _slots;                 // one per parameter, in _ordered's order
    private readonly Bucket[] _buckets;
    private readonly double _beta1, _beta2, _eps;

    /// <summary>Creates the optimiser over <paramref name="groups"/>.</summary>
    /// <param name="groups">Decay and no-decay parameters.</param>
    /// <param name="weightDecay">Decoupled weight decay of the decay group (≥ 0).</param>
    /// <param name="beta1">First-moment coefficient.</param>
    /// <param name="beta2">Second-moment coefficient.</param>
    /// <param name="eps">Denominator term.</param>
    public AdamWOptimizer(ParameterGroups groups, double weightDecay, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Decay.Count + groups.NoDecay.Count == 0)
            throw new ArgumentException("The model has no trainable parameters.", nameof(groups));
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay must be a finite number ≥ 0.");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β₁ must lie in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β₂ must lie in [0, 1).");
        if (!(eps > 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "ε must be a finite number > 0.");
        _ordered = groups.All.ToList();
        var duplicate = _ordered.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Parameter name '{duplicate.Key}' occurs twice.", nameof(groups));
        (_beta1, _beta2, _eps) = (beta1, beta2, eps);
        WeightDecay = weightDecay;

        // Buckets: (group, device, dtype), in order of first appearance; decay group first, as ParameterGroups.All.
        var decayed = new HashSet<Parameter>(groups.Decay.Select(p => p.Parameter), ReferenceEqualityComparer.Instance);
        _slots = new Slot[_ordered.Count];
        var keys = new List<(bool Decay, string Device, ScalarType Type)>();
        var members = new List<List<int>>();
        for (int i = 0; i < _ordered.Count; i++)
        {
            var p = _ordered[i].Parameter;
            var key = (decayed.Contains(p), p.device.ToString(), p.dtype);
            int b = keys.IndexOf(key);
            if (b < 0)
            {
                keys.Add(key);
                members.Add([]);
                b = keys.Count - 1;
            }
            members[b].Add(i);
        }
        _buckets = new Bucket[keys.Count];
        for (int b = 0; b < keys.Count; b++)
        {
            long offset = 0;
            foreach (int i in members[b])
            {
                var p = _ordered[i].Parameter;
                _slots[i] = new Slot(b, offset, p.numel(), p.shape);
                offset += p.numel();
            }
            var first = _ordered[members[b][0]].Parameter;
            // Owned by the optimiser, not by any dispose scope the constructor may run in.
            _buckets[b] = new Bucket(members[b].ToArray(), keys[b].Decay ? weightDecay : 0.0,
                zeros(offset, dtype: first.dtype, device: first.device).DetachFromDisposeScope(),
                zeros(offset, dtype: first.dtype, device: first.device).DetachFromDisposeScope());
        }
    }

    /// <summary>Weight decay of the decay group.</summary>
    public double WeightDecay { get; }

    /// <summary>The learning rate last set.</summary>
    public double LearningRate { get; private set; }

    /// <summary>The optimised parameters by name, decay group first.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters => _ordered;

    /// <summary>Number of flat moment buffers (one per parameter group, device and dtype).</summary>
    public int BucketCount => _buckets.Length;

    /// <summary>Buckets the last step updated parameter by parameter (the slow path; 0 in normal training).</summary>
    internal int PerParameterBuckets { get; private set; }

    /// <summary>Sets the learning rate of both groups.</summary>
    public void SetLearningRate(double learningRate)
    {
        if (!(learningRate >= 0) || !double.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a finite number ≥ 0.");
        LearningRate = learningRate;
    }

    /// <summary>Zeroes the existing gradients in place (as TorchSharp's <c>zero_grad()</c>; parameters without a
    /// gradient keep none).</summary>
    public void ZeroGradients()
    {
        using var noGrad = no_grad();
        foreach (var (_, p) in _ordered)
            p.grad?.zero_();
    }

    /// <summary>One AdamW update from the current gradients, unclipped. Unlike <see cref="Step(double)"/> it does not
    /// compute the gradient norm, so it never waits for the device: on a GPU the host can go on queueing work (the
    /// next step's forward) while the update still runs.</summary>
    public void Step() => Update(0, computeNorm: false)?.Dispose();

    /// <summary>
    /// Clips the gathered gradients to the global L2 norm <paramref name="maxGradNorm"/> (0 or +∞: no clipping),
    /// then applies one AdamW update. Returns the global norm before clipping (0 when no parameter has a gradient;
    /// NaN or ∞ when a gradient is not finite, in which case nothing is scaled). Reading the norm waits for the device;
    /// <see cref="StepDeferred"/> leaves the reading to the caller.
    /// </summary>
    public double Step(double maxGradNorm)
    {
        using var norm = StepDeferred(maxGradNorm);
        return norm.item<double>();
    }

    /// <summary>
    /// <see cref="Step(double)"/> without waiting for the device: the clipping factor is computed on the device (in
    /// float64, with the same operations <see cref="Step(double)"/> used on the host, so the parameters come out the same
    /// to the bit) and the global norm before clipping is returned as a 0-dim float64 tensor for the caller to read
    /// when it needs it (a trainer reads it with the step's loss, in one transfer). The caller owns the tensor.
    /// </summary>
    public Tensor StepDeferred(double maxGradNorm) => Update(maxGradNorm, computeNorm: true)!;

    private Tensor? Update(double maxGradNorm, bool computeNorm)
    {
        GradientClipping.CheckMaxNorm(maxGradNorm, nameof(maxGradNorm));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var gathered = _buckets.Select(Gather).ToArray();
        // What clipping scales: each bucket's flat vector, or its per-parameter copies.
        var scaled = gathered.SelectMany(g => g.Flat is { } f ? [f] : g.Grads.OfType<Tensor>()).ToArray();
        if (scaled.Length == 0) return computeNorm ? tensor(0.0, ScalarType.Float64).MoveToOuterDisposeScope() : null;
        bool clips = GradientClipping.Clips(maxGradNorm);
        Tensor? norm = null;
        if (computeNorm || clips)
        {
            // Per-tensor norms first, then the norm of those (PyTorch's order), in the gradients' dtype; float64 after.
            norm = linalg.vector_norm(stack(scaled.Select(t => linalg.vector_norm(t)).ToArray())).to_type(ScalarType.Float64);
        }
        if (clips)
        {
            // The float32 gradients take the factor rounded to float32, as they took the host's double before.
            var factor = GradientClipping.DeviceFactor(norm!, maxGradNorm);
            foreach (var t in scaled) t.mul_(factor);
        }
        for (int b = 0; b < _buckets.Length; b++) Apply(_buckets[b], gathered[b]);
        PerParameterBuckets = gathered.Count(g => g.Flat is null && g.Present.Length > 0);
        return computeNorm ? norm!.MoveToOuterDisposeScope() : null;
    }

    /// <summary>
    /// The state as CPU tensors keyed <c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c> (the parameter's dtype and
    /// shape) and <c>{name}.step</c> (int64 <c>[1]</c>). The caller owns the returned tensors.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        // The intermediate views and copies die with this scope; only the returned copies leave it.
        using var scope = NewDisposeScope();
        for (int i = 0; i < _ordered.Count; i++)
        {
            string name = _ordered[i].Name;
            result[name + ".exp_avg"] = View(_buckets[_slots[i].Bucket].ExpAvg, _slots[i]).detach().cpu().contiguous().clone();
            result[name + ".exp_avg_sq"] = View(_buckets[_slots[i].Bucket].ExpAvgSq, _slots[i]).detach().cpu().contiguous().clone();
            result[name + ".step"] = tensor(new[] { _slots[i].Step }, [1], ScalarType.Int64);
        }
        foreach (var t in result.Values) t.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>Restores a state from <see cref="StateDict"/> (tensors are copied, not consumed).</summary>
    /// <exception cref="InvalidDataException">A key is missing or unexpected, or a shape differs.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in _ordered)
        {
            expected.Add(name + ".exp_avg");
            expected.Add(name + ".exp_avg_sq");
            expected.Add(name + ".step");
        }
        var missing = expected.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !expected.Contains(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException(
                $"Optimiser state does not match the model: missing [{string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}], "
                + $"unexpected [{string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", …" : "")}].");

        // Check every shape and step before changing anything, so a bad file leaves the optimiser untouched.
        for (int i = 0; i < _ordered.Count; i++)
        {
            string name = _ordered[i].Name;
            foreach (string key in new[] { name + ".exp_avg", name + ".exp_avg_sq" })
                if (!state[key].shape.SequenceEqual(_slots[i].Shape))
                    throw new InvalidDataException(
                        $"Optimiser state '{key}' has shape [{string.Join(", ", state[key].shape)}], expected [{string.Join(", ", _slots[i].Shape)}].");
            if (state[name + ".step"].numel() != 1)
                throw new InvalidDataException($"Optimiser state '{name}.step' must hold one value.");
        }
        var steps = new long[_ordered.Count];
        for (int i = 0; i < _ordered.Count; i++)
        {
            using var step = state[_ordered[i].Name + ".step"].to_type(ScalarType.Int64);
            steps[i] = step.item<long>();
            if (steps[i] < 0)
                throw new InvalidDataException($"Optimiser state '{_ordered[i].Name}.step' is negative ({steps[i]}).");
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < _ordered.Count; i++)
        {
            string name = _ordered[i].Name;
            var bucket = _buckets[_slots[i].Bucket];
            View(bucket.ExpAvg, _slots[i]).copy_(state[name + ".exp_avg"]);
            View(bucket.ExpAvgSq, _slots[i]).copy_(state[name + ".exp_avg_sq"]);
            _slots[i].Step = steps[i];
        }
    }

    /// <summary>Releases the moment buffers.</summary>
    public void Dispose()
    {
        foreach (var b in _buckets)
        {
            b.ExpAvg.Dispose();
            b.ExpAvgSq.Dispose();
        }
    }

    // One bucket's gradients, copied (clipping scales them, not the parameters' .grad). Flat (the multi-tensor path)
    // when every parameter that has a gradient has the same step count: missing gradients are zeros in the flat vector
    // and Mask (true where a gradient exists) keeps their moments unchanged. Otherwise (after a skip, counts differ)
    // per-parameter copies, aligned with the bucket's members (null: no gradient). Present: the members with a gradient.
    private Gathered Gather(Bucket bucket)
    {
        var grads = bucket.Members.Select(i => _ordered[i].Parameter.grad).ToArray();
        var present = Enumerable.Range(0, grads.Length).Where(j => grads[j] is not null).ToArray();
        bool flat = present.Length > 0
            && present.All(j => _slots[bucket.Members[j]].Step == _slots[bucket.Members[present[0]]].Step);
        if (!flat) return new Gathered(null, null, grads.Select(g => g?.detach().clone()).ToArray(), present);
        var first = _ordered[bucket.Members[0]].Parameter;
        var all = cat(grads.Select((g, j) => g is null
            ? zeros(_slots[bucket.Members[j]].Count, dtype: first.dtype, device: first.device)
            : g.detach().reshape(-1)).ToArray());                                             // [N]
        Tensor? mask = null;
        if (present.Length < grads.Length)
        {
            using var has = tensor(grads.Select(g => g is not null).ToArray(), device: first.device);
            using var counts = tensor(bucket.Members.Select(i => _slots[i].Count).ToArray(), device: first.device);
            mask = has.repeat_interleave(counts);                                              // [N] bool
        }
        return new Gathered(all, mask, [], present);
    }

    private void Apply(Bucket bucket, Gathered gathered)
    {
        var present = gathered.Present;
        if (gathered.Flat is { } g)
        {
            long step = _slots[bucket.Members[present[0]]].Step + 1;
            foreach (int j in present) _slots[bucket.Members[j]].Step = step;
            var p = cat(bucket.Members.Select(i => _ordered[i].Parameter.detach().reshape(-1)).ToArray());   // [N]
            if (gathered.Mask is { } mask)
            {
                // Parameters without a gradient are skipped (PyTorch): their moments are restored afterwards, and
                // only the parameters with gradients are copied back below.
                var (m0, v0) = (bucket.ExpAvg.clone(), bucket.ExpAvgSq.clone());
                Update(p, g, bucket.ExpAvg, bucket.ExpAvgSq, step, bucket.WeightDecay);
                bucket.ExpAvg.copy_(where(mask, bucket.ExpAvg, m0));
                bucket.ExpAvgSq.copy_(where(mask, bucket.ExpAvgSq, v0));
            }
            else
            {
                Update(p, g, bucket.ExpAvg, bucket.ExpAvgSq, step, bucket.WeightDecay);
            }
            foreach (int j in present)
                _ordered[bucket.Members[j]].Parameter.detach().copy_(View(p, _slots[bucket.Members[j]]));
            return;
        }
        foreach (int j in present)
        {
            var slot = _slots[bucket.Members[j]];
            slot.Step++;
            Update(_ordered[bucket.Members[j]].Parameter.detach(), gathered.Grads[j]!, View(bucket.ExpAvg, slot),
                View(bucket.ExpAvgSq, slot), slot.Step, bucket.WeightDecay);
        }
    }

    // The AdamW formula in place on p, m, v (any shape, all alike). Scalars are created and disposed here: TorchSharp
    // 0.107's implicit ones are finalized by the GC, possibly while libtorch still reads them.
    private void Update(Tensor p, Tensor g, Tensor m, Tensor v, long step, double weightDecay)
    {
        double lr = LearningRate;
        if (weightDecay != 0)
        {
            using var decay = (1 - lr * weightDecay).ToScalar();
            p.mul_(decay);
        }
        double biasCorrection1 = 1 - Math.Pow(_beta1, step);
        double biasCorrection2 = 1 - Math.Pow(_beta2, step);
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var sqrtBias2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var eps = _eps.ToScalar();
        using var stepSize = (-lr / biasCorrection1).ToScalar();
        m.mul_(beta1).add_(g, oneMinusBeta1);
        v.mul_(beta2).addcmul_(g, g, oneMinusBeta2);
        using var denom = v.sqrt();
        denom.div_(sqrtBias2).add_(eps);
        p.addcdiv_(m, denom, stepSize);
    }

    private static Tensor View(Tensor flat, Slot slot) => flat.narrow(0, slot.Offset, slot.Count).view(slot.Shape);

    private sealed class Slot(int bucket, long offset, long count, long[] shape)
    {
        public int Bucket { get; } = bucket;
        public long Offset { get; } = offset;
        public long Count { get; } = count;
        public long[] Shape { get; } = shape;
        public long Step { get; set; }
    }

    private sealed record Bucket(int[] Members, double WeightDecay, Tensor ExpAvg, Tensor ExpAvgSq);

    // Flat: the bucket's gradients as one vector (null on the per-parameter path); Grads: per member, the gradient
    // copy on the per-parameter path (empty on the flat path); Present: indices into the members that have a gradient.
    private sealed record Gathered(Tensor? Flat, Tensor? Mask, Tensor?[] Grads, int[] Present);
}
