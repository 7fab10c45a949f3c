using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// TorchSharp's <c>torch.optim.AdamW</c> with the two parameter groups of <see cref="ParameterGroups"/> (weight decay
/// on the decay group, none on the other), plus an exact, device-independent save/restore of its state by parameter
/// name: per parameter the step count and the <c>exp_avg</c> / <c>exp_avg_sq</c> moment tensors.
/// </summary>
/// <remarks>
/// <para>Update (identical to PyTorch's AdamW): <c>p ← p·(1 − lr·wd)</c>, then the bias-corrected Adam step with
/// β₁, β₂, ε. The learning rate of both groups is set before every step (<see cref="SetLearningRate"/>).</para>
/// <para>Why not TorchSharp's own <c>save_state_dict</c>: it writes the state in group order through
/// <c>Tensor.Load</c>, which does not work for tensors on CUDA and ties the file to the exact parameter order. Here the
/// state is exported as CPU copies keyed by name and restored with <c>copy_</c> into the live state tensors, which
/// is bit-exact and works on any device.</para>
/// <para>The moment tensors are created when the optimiser is constructed, so construct it after the model has been
/// moved to its device and outside any dispose scope that ends before training does.</para>
/// </remarks>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly AdamW _adamW;
    private readonly List<(string Name, Parameter Parameter)> _ordered;

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
        _ordered = groups.All.ToList();
        var duplicate = _ordered.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Parameter name '{duplicate.Key}' occurs twice.", nameof(groups));
        var paramGroups = new List<AdamW.ParamGroup>();
        // Group order = state order: decay group first, as in ParameterGroups.All. Empty groups are left out
        // (TorchSharp would accept them, but they carry no state and only complicate the mapping).
        if (groups.Decay.Count > 0)
            paramGroups.Add(new AdamW.ParamGroup(groups.Decay.Select(p => p.Parameter).ToList(), lr: 0.0,
                beta1: beta1, beta2: beta2, eps: eps, weight_decay: weightDecay));
        if (groups.NoDecay.Count > 0)
            paramGroups.Add(new AdamW.ParamGroup(groups.NoDecay.Select(p => p.Parameter).ToList(), lr: 0.0,
                beta1: beta1, beta2: beta2, eps: eps, weight_decay: 0.0));
        // Explicit betas: the torch.optim.AdamW factory of TorchSharp 0.107 defaults beta2 to 0.99, not 0.999.
        _adamW = new AdamW(paramGroups, lr: 0.0, beta1: beta1, beta2: beta2, eps: eps, weight_decay: 0.0);
        WeightDecay = weightDecay;
    }

    /// <summary>The wrapped TorchSharp optimiser.</summary>
    public AdamW Inner => _adamW;

    /// <summary>Weight decay of the decay group.</summary>
    public double WeightDecay { get; }

    /// <summary>The learning rate last set.</summary>
    public double LearningRate { get; private set; }

    /// <summary>The optimised parameters by name, decay group first.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters => _ordered;

    /// <summary>Sets the learning rate of both groups.</summary>
    public void SetLearningRate(double learningRate)
    {
        foreach (var group in _adamW.ParamGroups) group.LearningRate = learningRate;
        LearningRate = learningRate;
    }

    /// <summary>One AdamW update from the current gradients (parameters without a gradient are skipped, as in
    /// PyTorch: no decay and no step count for them).</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        _adamW.step();
    }

    /// <summary>
    /// The state as CPU tensors keyed <c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c> (the parameter's dtype and
    /// shape) and <c>{name}.step</c> (int64 <c>[1]</c>). The caller owns the returned tensors.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var states = OrderedStates();
        // The intermediate views and copies die with this scope; only the returned copies leave it.
        using var scope = NewDisposeScope();
        for (int i = 0; i < _ordered.Count; i++)
        {
            string name = _ordered[i].Name;
            var state = states[i];
            result[name + ".exp_avg"] = state.exp_avg.detach().cpu().contiguous().clone();
            result[name + ".exp_avg_sq"] = state.exp_avg_sq.detach().cpu().contiguous().clone();
            result[name + ".step"] = tensor(new[] { state.step }, [1], ScalarType.Int64);
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

        var states = OrderedStates();
        // Check every shape before changing anything, so a bad file leaves the optimiser untouched.
        for (int i = 0; i < _ordered.Count; i++)
        {
            string name = _ordered[i].Name;
            foreach (var (key, live) in new[] { (name + ".exp_avg", states[i].exp_avg), (name + ".exp_avg_sq", states[i].exp_avg_sq) })
                if (!state[key].shape.SequenceEqual(live.shape))
                    throw new InvalidDataException(
                        $"Optimiser state '{key}' has shape [{string.Join(", ", state[key].shape)}], expected [{string.Join(", ", live.shape)}].");
            if (state[name + ".step"].numel() != 1)
                throw new InvalidDataException($"Optimiser state '{name}.step' must hold one value.");
        }
        using var noGrad = no_grad();
        for (int i = 0; i < _ordered.Count; i++)
        {
            string name = _ordered[i].Name;
            var live = states[i];
            live.exp_avg.copy_(state[name + ".exp_avg"]);
            live.exp_avg_sq.copy_(state[name + ".exp_avg_sq"]);
            using var step = state[name + ".step"].to_type(ScalarType.Int64);
            live.step = step.item<long>();
        }
    }

    /// <summary>Releases the optimiser and its state tensors.</summary>
    public void Dispose() => _adamW.Dispose();

    private List<AdamW.State> OrderedStates()
    {
        // state_dict() lists states group by group in parameter order: the same order as _ordered.
        var states = _adamW.state_dict().State.Cast<AdamW.State>().ToList();
        if (states.Count != _ordered.Count)
            throw new InvalidOperationException(
                $"TorchSharp's AdamW holds {states.Count} parameter states; expected {_ordered.Count}.");
        return states;
    }
}
