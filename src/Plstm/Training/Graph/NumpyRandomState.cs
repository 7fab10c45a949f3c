namespace Plstm.Training.Graph;

/// <summary>
/// The part of numpy's legacy <c>numpy.random.RandomState</c> (MT19937) that scikit-learn's splitters use, bit-exact:
/// integer seeding (<c>RandomState(seed)</c>, i.e. <c>init_genrand</c>), 32-bit draws, <c>random_sample</c>,
/// <c>shuffle</c> / <c>permutation</c> of a 1-d array (Fisher–Yates from the end with numpy's masked rejection sampler
/// <c>random_interval</c>) and <c>choice(n, size, replace=False)</c> without probabilities (a permutation's prefix).
/// It exists so that <see cref="GraphSplits"/> reproduces the folds of the reference's
/// <c>StratifiedKFold(10, shuffle=True, random_state=42)</c> and <c>train_test_split(…, random_state=42)</c> exactly.
/// </summary>
public sealed class NumpyRandomState
{
    private const int N = 624;
    private const int M = 397;
    private const uint MatrixA = 0x9908b0dfu;
    private const uint UpperMask = 0x80000000u;
    private const uint LowerMask = 0x7fffffffu;

    private readonly uint[] _key = new uint[N];
    private int _pos;

    /// <summary><c>numpy.random.RandomState(seed)</c> for an integer seed in [0, 2³²).</summary>
    public NumpyRandomState(uint seed)
    {
        for (int i = 0; i < N; i++)
        {
            _key[i] = seed;
            seed = unchecked(1812433253u * (seed ^ (seed >> 30)) + (uint)i + 1u);
        }
        _pos = N;
    }

    /// <summary>The next 32 random bits (MT19937 <c>genrand_int32</c>).</summary>
    public uint NextUInt32()
    {
        if (_pos == N) Generate();
        uint y = _key[_pos++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary><c>random_sample()</c>: a double in [0, 1) from two draws (53 bits).</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary>numpy's <c>random_interval(max)</c>: uniform in [0, max] by masked rejection.</summary>
    public ulong Interval(ulong max)
    {
        if (max == 0) return 0;
        ulong mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        mask |= mask >> 32;
        ulong value;
        if (max <= 0xffffffffUL)
        {
            while ((value = NextUInt32() & mask) > max) { }
        }
        else
        {
            while ((value = (((ulong)NextUInt32() << 32) | NextUInt32()) & mask) > max) { }
        }
        return value;
    }

    /// <summary><c>shuffle(x)</c> of a 1-d array, in place.</summary>
    public void Shuffle<T>(T[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        for (int i = values.Length - 1; i >= 1; i--)
        {
            int j = (int)Interval((ulong)i);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary><c>permutation(n)</c>: a shuffled <c>0 … n − 1</c>.</summary>
    public int[] Permutation(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Shuffle(p);
        return p;
    }

    /// <summary><c>permutation(array)</c>: a shuffled copy.</summary>
    public T[] Permutation<T>(IReadOnlyList<T> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = values.ToArray();
        Shuffle(copy);
        return copy;
    }

    /// <summary><c>choice(values, size, replace=False)</c> without probabilities: <c>values[permutation(n)[:size]]</c>.</summary>
    public T[] ChooseWithoutReplacement<T>(IReadOnlyList<T> values, int size)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (size < 0 || size > values.Count)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"size must be in [0, {values.Count}]");
        var p = Permutation(values.Count);
        return p.Take(size).Select(i => values[i]).ToArray();
    }

    private void Generate()
    {
        int i;
        uint y;
        for (i = 0; i < N - M; i++)
        {
            y = (_key[i] & UpperMask) | (_key[i + 1] & LowerMask);
            _key[i] = _key[i + M] ^ (y >> 1) ^ ((y & 1u) != 0 ? MatrixA : 0u);
        }
        for (; i < N - 1; i++)
        {
            y = (_key[i] & UpperMask) | (_key[i + 1] & LowerMask);
            _key[i] = _key[i + (M - N)] ^ (y >> 1) ^ ((y & 1u) != 0 ? MatrixA : 0u);
        }
        y = (_key[N - 1] & UpperMask) | (_key[0] & LowerMask);
        _key[N - 1] = _key[M - 1] ^ (y >> 1) ^ ((y & 1u) != 0 ? MatrixA : 0u);
        _pos = 0;
    }
}
