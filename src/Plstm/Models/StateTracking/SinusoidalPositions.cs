using static TorchSharp.torch;

namespace Plstm.Models.StateTracking;

/// <summary>
/// The fixed sinusoidal position encoding of Vaswani et al. (2017): for position p and channel pair i,
/// <c>PE[p, 2i] = sin(p / 10000^(2i/D))</c>, <c>PE[p, 2i+1] = cos(p / 10000^(2i/D))</c>. No parameters; defined for
/// any length.
/// </summary>
public static class SinusoidalPositions
{
    /// <summary>The encoding <c>[length, dim]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> not positive, or
    /// <paramref name="dim"/> not a positive even number.</exception>
    public static Tensor Create(long length, long dim, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (dim <= 0 || dim % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, "dim must be a positive even number.");
        using var scope = NewDisposeScope();
        // Computed in float64 so that long positions keep their phase, then cast.
        var position = arange(length, dtype: ScalarType.Float64, device: device).unsqueeze(1);       // [L, 1]
        var pair = arange(0, dim, 2, dtype: ScalarType.Float64, device: device);                    // [D/2]
        var frequency = exp(pair * (-Math.Log(10000.0) / dim));
        var angle = position * frequency;                                                          // [L, D/2]
        var encoding = stack(new[] { sin(angle), cos(angle) }, dim: -1).reshape(length, dim);      // sin, cos interleaved
        return encoding.to_type(dtype).MoveToOuterDisposeScope();
    }
}
