using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// An exponential moving average (EMA) of a model's weights, kept beside the model on its device: after optimiser step
/// n (n = 0, 1, …) every floating-point <c>state_dict</c> entry w updates its average a as
/// <c>a ← d_n·a + (1 − d_n)·w</c> with <c>d_n = min(decay, (1 + n) / (10 + n))</c>; other entries (integer buffers) are
/// copied. The warm-up factor keeps the average from being dominated by the initial weights in short runs: early on it
/// averages over roughly the last tenth of the steps so far, later over about 1 / (1 − decay) steps.
/// </summary>
/// <remarks>
/// The average starts as a copy of the weights at construction. <see cref="Swap"/> exchanges the average with the
/// model's weights in place (no new parameters, optimiser untouched), so evaluation and checkpointing run on the
/// averaged weights with the same module, and a second swap restores the optimiser's own ("online") weights.
/// </remarks>
public sealed class ModelEma : IDisposable
{
    private readonly Dictionary<string, Tensor> _average = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Copies the model's current <c>state_dict</c> as the initial average.</summary>
    /// <param name="model">The model being trained (already on its device).</param>
    /// <param name="decay">The long-run decay in (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is outside (0, 1).</exception>
    public ModelEma(nn.Module model, double decay)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(decay > 0 && decay < 1))
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "the EMA decay must be in (0, 1)");
        Decay = decay;
        using var noGrad = no_grad();
        foreach (var (key, value) in model.state_dict())
            _average[key] = value.detach().clone();
    }

    /// <summary>The long-run decay.</summary>
    public double Decay { get; }

    /// <summary>The averaged entries by <c>state_dict</c> name (owned by this object; while swapped, they hold the
    /// model's online weights).</summary>
    public IReadOnlyDictionary<string, Tensor> Average => _average;

    /// <summary>The decay used by the update after optimiser step <paramref name="step"/> (0-based).</summary>
    public double DecayAt(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return Math.Min(Decay, (1.0 + step) / (10.0 + step));
    }

    /// <summary>Folds the model's current weights into the average, after optimiser step <paramref name="step"/>
    /// (0-based: the first update uses d = 0.1).</summary>
    /// <exception cref="InvalidOperationException">The model's entries differ from those the average was made of.</exception>
    public void Update(nn.Module model, long step)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        double weight = 1.0 - DecayAt(step);
        using var noGrad = no_grad();
        foreach (var (key, live) in Entries(model))
        {
            var average = _average[key];
            if (average.is_floating_point()) average.lerp_(live, weight);
            else average.copy_(live);
        }
    }

    /// <summary>Exchanges the average and the model's weights in place: the model then holds the average and this
    /// object the weights the optimiser works on; calling it again undoes it.</summary>
    public void Swap(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        foreach (var (key, live) in Entries(model))
        {
            var average = _average[key];
            using var held = live.clone();
            live.copy_(average);
            average.copy_(held);
        }
    }

    /// <summary>Sets the average to the model's current weights (e.g. the averaged weights a resumed checkpoint
    /// stores as its model).</summary>
    public void CopyFrom(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        foreach (var (key, live) in Entries(model)) _average[key].copy_(live);
    }

    private List<(string Key, Tensor Live)> Entries(nn.Module model)
    {
        var entries = model.state_dict();
        if (entries.Count != _average.Count || entries.Keys.Any(k => !_average.ContainsKey(k)))
            throw new InvalidOperationException(
                "The model's state_dict entries differ from those of its weight average (EMA); was another model passed?");
        return entries.Select(e => (e.Key, e.Value)).ToList();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _average.Values) t.Dispose();
        _average.Clear();
    }
}
