using Plstm.Interop;
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
/// <para><b>Multi-tensor form.</b> The parameters and moments of each group live in flat buffers, one per device and
/// dtype (a "bucket"): at construction every parameter's values are copied into its slot of the bucket's parameter
/// buffer and the parameter is re-pointed (<c>Tensor.set_</c>) at a view of that slot. It stays the same
/// <see cref="Parameter"/> object, a contiguous leaf with its shape and <c>requires_grad</c>, so the model's forward and
/// backward do not change; the optimiser owns the buffers. A step gathers the bucket's gradients with one <c>cat</c>
/// and runs the update as about ten element-wise ops on the flat buffers in place: no gathering of the parameters and
/// no copy back. The per-parameter form issued about ten ops per parameter plus two for clipping — for pLSTM-ViT-T's
/// 318 parameter tensors some 3,800 ops, each ≈ 13 µs of launch overhead on CUDA — and created five temporary
/// TorchSharp <c>Scalar</c>s per parameter, objects with finalizers (every Scalar here is created and disposed
/// explicitly); the first flat form still gathered the parameters with a <c>cat</c> and copied them back one by one
/// (some 1,300 TorchSharp calls and 318 small kernels per step). A parameter without a gradient takes part with a zero
/// gradient, and its slots (value and moments) are copied before the update and put back after it, so it comes out
/// bit-identical, as skipped in PyTorch; only a bucket whose parameters with gradients have different step counts
/// (possible after such a skip) is updated parameter by parameter, with the same formula on views of the flat
/// buffers.</para>
/// <para><b>Parameters that leave their slot.</b> Every step first checks (host-side, no device work) that each
/// parameter still views its slot: its data address is the buffer's plus the slot's offset. A parameter that was
/// re-pointed (<c>set_</c> to another tensor, a loader that replaced its storage) but kept its device, dtype and shape
/// has its current values copied into its slot and is re-pointed there, so the step updates what the model uses. One
/// whose device, dtype or shape changed, or that was disposed (<c>Module.to</c> with another device or dtype replaces
/// the module's parameters by new objects and disposes the old ones), fails with an
/// <see cref="InvalidOperationException"/> naming it: create the optimiser after the model has been moved to its
/// device and converted to its dtype (which the moments needed already). Copying into a parameter
/// (<c>copy_</c>, as the checkpoint loaders and <see cref="ModelEma.Swap"/> do) writes into the slot and needs nothing.
/// A tensor registered under several names (tied weights) is listed once by TorchSharp's <c>named_parameters</c>, so it
/// gets one slot and stays tied; two distinct parameter tensors that shared memory would get a slot each and no longer
/// share it (no model here does that). Checkpoint writers copy a parameter that sits at an offset in its buffer before
/// writing it (<see cref="ModelCheckpoint.StorableCopy"/>), so a file holds each parameter's own bytes. After <see cref="Dispose"/> the parameters keep their values: the buffer's memory
/// lives as long as any view of it.</para>
/// <para><b>Clipping</b> (<see cref="Step(double)"/>): the global L2 norm of all gradients is the norm of the
/// buckets' flat gradient vectors (<c>torch.nn.utils.clip_grad_norm_</c> takes the norm of per-tensor norms: the same
/// number up to float rounding); above the maximum, the gathered gradients are scaled by <c>max / (norm + 1e-6)</c>.
/// The optimiser scales its own gathered copies; the parameters' <c>.grad</c> tensors are left as they are.</para>
/// <para>Why not TorchSharp's own <c>save_state_dict</c>: it writes the state in group order through
/// <c>Tensor.Load</c>, which does not work for tensors on CUDA and ties the file to the exact parameter order. Here the
/// state is exported as CPU copies keyed by name and restored with <c>copy_</c> into the live state tensors, which
/// is bit-exact and works on any device.</para>
/// <para>The flat buffers are created when the optimiser is constructed, so construct it after the model has been
/// moved to its device and converted to its dtype; they are owned by the optimiser, not by any dispose scope the
/// constructor runs in.</para>
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
        try
        {
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
                var values = empty(offset, dtype: first.dtype, device: first.device).DetachFromDisposeScope();
                _buckets[b] = new Bucket(members[b].ToArray(), keys[b].Decay ? weightDecay : 0.0, values,
                    offset > 0 ? TensorData.Pointer(values) : IntPtr.Zero, values.ElementSize,
                    zeros(offset, dtype: first.dtype, device: first.device).DetachFromDisposeScope(),
                    zeros(offset, dtype: first.dtype, device: first.device).DetachFromDisposeScope());
                foreach (int i in members[b]) Flatten(i);
            }
        }
        catch
        {
            // Parameters already re-pointed keep their values (their views keep the storage alive).
            foreach (var bucket in _buckets) bucket?.Dispose();
            throw;
        }
    }

    /// <summary>Weight decay of the decay group.</summary>
    public double WeightDecay { get; }

    /// <summary>The learning rate last set.</summary>
    public double LearningRate { get; private set; }

    /// <summary>The optimised parameters by name, decay group first.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters => _ordered;

    /// <summary>Number of buckets: flat parameter and moment buffers, one set per parameter group, device and dtype.</summary>
    public int BucketCount => _buckets.Length;

    /// <summary>The flat parameter buffer of bucket <paramref name="bucket"/> (owned by the optimiser; for tests).</summary>
    internal Tensor BucketValues(int bucket) => _buckets[bucket].Values;

    /// <summary>Parameters the last step found out of their slot and put back (0 in normal training).</summary>
    internal int Reflattened { get; private set; }

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
        CheckSlots();
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

    /// <summary>Releases the optimiser's handles on its buffers. The parameters stay valid with their current values:
    /// they are views of the parameter buffers, whose memory lives as long as any view of it.</summary>
    public void Dispose()
    {
        foreach (var b in _buckets) b.Dispose();
    }

    // Copies parameter i's current values into its slot and re-points the parameter at a view of the slot (same
    // Parameter object: still a leaf with requires_grad, now contiguous). set_ on a leaf that requires grad is refused
    // by autograd unless gradients are off.
    private void Flatten(int i)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var p = _ordered[i].Parameter;
        var slot = View(_buckets[_slots[i].Bucket].Values, _slots[i]);
        slot.copy_(p.detach());
        p.set_(slot);
    }

    // The per-step check of the remarks ("Parameters that leave their slot"). Host calls only — a handful of P/Invokes
    // per parameter (data address, dtype, sizes), no tensor created, no device work: ≈ 50 µs for pLSTM-ViT-T's 318
    // parameters on the CPU machine, against the per-parameter gathering and copying back it replaces.
    private void CheckSlots()
    {
        int reflattened = 0;
        for (int i = 0; i < _ordered.Count; i++)
        {
            var (name, p) = _ordered[i];
            var slot = _slots[i];
            var bucket = _buckets[slot.Bucket];
            if (p.IsInvalid)
                throw Moved(name, "has been disposed (Module.to with another device or dtype replaces a module's parameters by new tensors)");
            // (Not from set_: libtorch's set_ keeps the target's dtype and reads the source's bytes as that dtype.)
            if (p.dtype != bucket.Values.dtype)
                throw Moved(name, $"is now {p.dtype}, its buffer {bucket.Values.dtype}");
            if (!HasShape(p, slot.Shape))
                throw Moved(name, $"now has shape [{string.Join(", ", p.shape)}], its slot [{string.Join(", ", slot.Shape)}]");
            if (slot.Count == 0) continue;                  // nothing to update; an empty tensor has no address
            if (TensorData.Pointer(p) == bucket.Address + (nint)(slot.Offset * bucket.ElementSize)) continue;
            // Re-pointed: its values are what the model now uses, so they move into the slot.
            if (p.device_type != bucket.Values.device_type || p.device_index != bucket.Values.device_index)
                throw Moved(name, $"is now on {p.device}, its buffer on {bucket.Values.device}");
            Flatten(i);
            reflattened++;
        }
        Reflattened = reflattened;
    }

    // Tensor.shape costs ≈ 1.3 µs in TorchSharp 0.107 (an array through a native callback), ndim and size(d) a plain
    // P/Invoke each: this runs for every parameter in every step.
    private static bool HasShape(Tensor tensor, long[] shape)
    {
        if (tensor.ndim != shape.Length) return false;
        for (int d = 0; d < shape.Length; d++)
            if (tensor.size(d) != shape[d]) return false;
        return true;
    }

    private static InvalidOperationException Moved(string name, string what) => new(
        $"AdamW parameter '{name}' {what}. The optimiser keeps each parameter in a flat buffer of the device, dtype "
        + "and shape it had when the optimiser was created: create the optimiser after the model has been moved to its "
        + "device and converted to its dtype.");

    // One bucket's gradients, copied (clipping scales them, not the parameters' .grad). Flat (the multi-tensor path)
    // when every parameter that has a gradient has the same step count: missing gradients are zeros in the flat vector
    // (Apply puts those members' slots back after the update). Otherwise (after a skip, counts differ) per-parameter
    // copies, aligned with the bucket's members (null: no gradient). Present: the members with a gradient.
    private Gathered Gather(Bucket bucket)
    {
        var grads = bucket.Members.Select(i => _ordered[i].Parameter.grad).ToArray();
        var present = Enumerable.Range(0, grads.Length).Where(j => grads[j] is not null).ToArray();
        bool flat = present.Length > 0
            && present.All(j => _slots[bucket.Members[j]].Step == _slots[bucket.Members[present[0]]].Step);
        if (!flat) return new Gathered(null, grads.Select(g => g?.detach().clone()).ToArray(), present);
        var values = bucket.Values;
        var all = cat(grads.Select((g, j) => g is null
            ? zeros(_slots[bucket.Members[j]].Count, dtype: values.dtype, device: values.device)
            : g.detach().reshape(-1)).ToArray());                                             // [N]
        return new Gathered(all, [], present);
    }

    private void Apply(Bucket bucket, Gathered gathered)
    {
        var present = gathered.Present;
        if (gathered.Flat is { } g)
        {
            long step = _slots[bucket.Members[present[0]]].Step + 1;
            foreach (int j in present) _slots[bucket.Members[j]].Step = step;
            // Parameters without a gradient are skipped (PyTorch): the update runs over the whole bucket (their
            // gradient is zero there, but decay and the old moments would still move them), so their value and moment
            // slots are copied first and put back after, to the bit. Per missing member three small copies and three
            // copy_ back: cheaper than a mask over the whole bucket and where() on all three buffers while few members
            // miss a gradient, the usual case (a parameter the forward never uses).
            var missing = Enumerable.Range(0, bucket.Members.Length).Except(present)
                .Select(j => _slots[bucket.Members[j]])
                .Select(s => (Slot: s, P: View(bucket.Values, s).clone(), M: View(bucket.ExpAvg, s).clone(),
                    V: View(bucket.ExpAvgSq, s).clone()))
                .ToArray();
            Update(bucket.Values, g, bucket.ExpAvg, bucket.ExpAvgSq, step, bucket.WeightDecay);
            foreach (var (slot, p0, m0, v0) in missing)
            {
                View(bucket.Values, slot).copy_(p0);
                View(bucket.ExpAvg, slot).copy_(m0);
                View(bucket.ExpAvgSq, slot).copy_(v0);
            }
            return;
        }
        foreach (int j in present)
        {
            var slot = _slots[bucket.Members[j]];
            slot.Step++;
            Update(View(bucket.Values, slot), gathered.Grads[j]!, View(bucket.ExpAvg, slot),
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

    // Values: the members' parameters, each a view of its slot (Address: the first element's address, IntPtr.Zero when
    // the bucket is empty; ElementSize in bytes); ExpAvg, ExpAvgSq: the moments, slot for slot.
    private sealed record Bucket(int[] Members, double WeightDecay, Tensor Values, IntPtr Address, long ElementSize,
        Tensor ExpAvg, Tensor ExpAvgSq) : IDisposable
    {
        public void Dispose()
        {
            Values.Dispose();
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
        }
    }

    // Flat: the bucket's gradients as one vector (null on the per-parameter path); Grads: per member, the gradient
    // copy on the per-parameter path (empty on the flat path); Present: indices into the members that have a gradient.
    private sealed record Gathered(Tensor? Flat, Tensor?[] Grads, int[] Present);
}
