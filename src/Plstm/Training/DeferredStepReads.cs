using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Training steps whose numbers are still on the device: each step leaves a small float64 vector (its loss, correct
/// count, gradient norm, …) and a host-side record; <see cref="ReadAll"/> brings every pending vector back in one
/// transfer, in step order. Reading once per many steps instead of once per step lets the host queue the next steps
/// while the device still runs the earlier ones.
/// </summary>
/// <typeparam name="TStep">What the host keeps about a step until its numbers arrive.</typeparam>
internal sealed class DeferredStepReads<TStep> : IDisposable
{
    private readonly List<(Tensor Values, TStep Step)> _pending = [];

    /// <summary>Steps waiting to be read.</summary>
    public int Count => _pending.Count;

    /// <summary>Queues one step. Takes ownership of <paramref name="values"/> (a vector of the same length for every
    /// step, on any device), which must not belong to a dispose scope that ends before the read.</summary>
    public void Add(Tensor values, TStep step)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.ndim != 1)
            throw new ArgumentException($"A step's values must be a vector (got {values.ndim} dimensions).", nameof(values));
        if (_pending.Count > 0 && values.shape[0] != _pending[0].Values.shape[0])
            throw new ArgumentException(
                $"Every step leaves {_pending[0].Values.shape[0]} values (got {values.shape[0]}).", nameof(values));
        _pending.Add((values, step));
    }

    /// <summary>The pending steps with their values as doubles, oldest first, read with one wait for the device;
    /// empties the queue.</summary>
    public IReadOnlyList<(double[] Values, TStep Step)> ReadAll()
    {
        if (_pending.Count == 0) return [];
        double[] flat;
        using (var scope = NewDisposeScope())
        {
            var values = _pending.Select(p => p.Values).ToArray();
            flat = cat(values.Select(v => v.to_type(ScalarType.Float64).to(values[0].device)).ToArray()).cpu()
                .data<double>().ToArray();
        }
        int width = (int)_pending[0].Values.shape[0];
        var read = new List<(double[] Values, TStep Step)>(_pending.Count);
        for (int i = 0; i < _pending.Count; i++) read.Add((flat.AsSpan(i * width, width).ToArray(), _pending[i].Step));
        Dispose();
        return read;
    }

    /// <summary>Releases the pending steps' tensors unread.</summary>
    public void Dispose()
    {
        foreach (var (values, _) in _pending) values.Dispose();
        _pending.Clear();
    }
}
