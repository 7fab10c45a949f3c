namespace Plstm.Training;

/// <summary>
/// The trainer's own random number generator: xoshiro256** seeded through SplitMix64. Its whole state is four 64-bit
/// words (<see cref="GetState"/> / <see cref="SetState"/>), so a checkpoint can store it and a resumed run continues
/// the exact same stream. Used for the per-epoch shuffle, for Mixup/CutMix and for random crops and flips; torch's
/// generator is left to the model (dropout, drop path).
/// </summary>
/// <remarks>
/// A managed generator rather than torch's: its draws do not depend on the device, on libtorch's version or on other
/// code that happens to use torch's global generator, and its state is trivially serialisable. Not thread-safe.
/// </remarks>
public sealed class TrainingRandom
{
    /// <summary>Stream id of the per-epoch data shuffle (see <see cref="ForStream"/>).</summary>
    public const ulong ShuffleStream = 1;

    /// <summary>Stream id of the Mixup/CutMix draws (see <see cref="ForStream"/>).</summary>
    public const ulong MixStream = 2;

    /// <summary>Stream id of the random crop and flip draws (see <see cref="ForStream"/>; the counter is the step).</summary>
    public const ulong AugmentStream = 3;

    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator seeded from <paramref name="seed"/> (SplitMix64 expansion to four state words).</summary>
    public TrainingRandom(long seed)
    {
        ulong x = (ulong)seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
        // SplitMix64 never yields four zero words from one seed, but keep the invariant explicit.
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    /// <summary>
    /// An independent generator for one purpose (<paramref name="stream"/>) and one counter value (e.g. the epoch),
    /// derived from the run seed by hashing, so streams do not overlap in practice and any (stream, counter) can be
    /// recreated without replaying the others.
    /// </summary>
    public static TrainingRandom ForStream(long seed, ulong stream, long counter)
    {
        ulong x = (ulong)seed;
        ulong h = SplitMix64(ref x);
        x = h ^ (stream * 0xD1B54A32D192ED03UL);
        h = SplitMix64(ref x);
        x = h ^ ((ulong)counter * 0x9E3779B97F4A7C15UL);
        return new TrainingRandom((long)SplitMix64(ref x));
    }

    /// <summary>The four state words (a copy), for checkpoints.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3];

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    /// <exception cref="ArgumentException">Not four words, or all zero (not a reachable state).</exception>
    public void SetState(IReadOnlyList<ulong> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Count != 4) throw new ArgumentException("A TrainingRandom state has exactly 4 words.", nameof(state));
        if ((state[0] | state[1] | state[2] | state[3]) == 0)
            throw new ArgumentException("An all-zero state is not a valid xoshiro256** state.", nameof(state));
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
    }

    /// <summary>The next 64 random bits (xoshiro256**).</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A double in [0, 1) from the top 53 bits of one draw.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>A double in (0, 1): never 0, so it is safe under a logarithm.</summary>
    private double NextOpenDouble() => ((NextUInt64() >> 11) + 0.5) * (1.0 / 9007199254740992.0);

    /// <summary>An unbiased integer in [0, <paramref name="maxExclusive"/>) (rejection of the biased tail).</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong n = (ulong)maxExclusive;
        // Largest multiple of n that fits: draws at or above it would favour small residues.
        ulong limit = ulong.MaxValue - ulong.MaxValue % n;
        ulong v;
        do v = NextUInt64(); while (v >= limit);
        return (int)(v % n);
    }

    /// <summary>A standard normal draw (Box–Muller; both uniforms are drawn every call, no cached spare, so the
    /// state stays four words).</summary>
    public double NextGaussian()
    {
        double u1 = NextOpenDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>A Gamma(<paramref name="shape"/>, 1) draw (Marsaglia–Tsang; shape &lt; 1 via the
    /// <c>Gamma(shape + 1)·U^(1/shape)</c> boost).</summary>
    public double NextGamma(double shape)
    {
        if (!(shape > 0) || double.IsInfinity(shape))
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "The Gamma shape must be positive and finite.");
        if (shape < 1.0)
        {
            double g = NextGamma(shape + 1.0);
            return g * Math.Pow(NextOpenDouble(), 1.0 / shape);
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = NextGaussian();
                v = 1.0 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            double u = NextOpenDouble();
            if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1.0 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>A Beta(<paramref name="a"/>, <paramref name="b"/>) draw as <c>Ga/(Ga + Gb)</c>.</summary>
    public double NextBeta(double a, double b)
    {
        double x = NextGamma(a);
        double y = NextGamma(b);
        double sum = x + y;
        // Both gammas can underflow to 0 for tiny shapes; fall back to a fair coin, the Beta(ε, ε) limit.
        return sum > 0 ? x / sum : (NextUInt64() >> 63) == 0 ? 0.0 : 1.0;
    }

    /// <summary>A uniformly random permutation of 0 … <paramref name="count"/> − 1 (Fisher–Yates).</summary>
    public int[] Permutation(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var p = new int[count];
        for (int i = 0; i < count; i++) p[i] = i;
        for (int i = count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    private static ulong SplitMix64(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        ulong z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
