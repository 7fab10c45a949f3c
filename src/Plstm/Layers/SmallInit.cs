namespace Plstm.Layers;

/// <summary>
/// The reference's "SmallInit" (models §0): normal, mean 0, std √(2 / (5·fan)). In the torch reference the fan is the
/// size of the tensor's last axis, i.e. in_features for a Linear weight and the input channels per group for the q/k/v
/// weights.
/// </summary>
public static class SmallInit
{
    /// <summary>The standard deviation √(2 / (5·fan)).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fan"/> is not positive.</exception>
    public static double Std(long fan) => fan > 0
        ? Math.Sqrt(2.0 / (5.0 * fan))
        : throw new ArgumentOutOfRangeException(nameof(fan), fan, "fan must be positive");
}
