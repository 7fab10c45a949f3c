using System.Numerics;

namespace Plstm.Data.Random;

/// <summary>
/// A port of numpy's <c>numpy.random.SeedSequence</c> (pool size 4, 32-bit words), so that a seed given to this
/// project produces the same bit-generator state as <c>numpy.random.default_rng(seed)</c>. The arrow-pointing
/// reference generator derives every sample from numpy seeds, and reproducing its parameters exactly requires
/// reproducing numpy's entropy mixing bit for bit.
/// </summary>
/// <remarks>
/// Only the deterministic part is ported: entropy given as a non-negative integer (or as its uint32 words) and an
/// optional spawn key. Entropy drawn from the operating system (numpy's <c>SeedSequence()</c> without arguments) is
/// deliberately not supported: everything in this project must be reproducible from a stated seed.
/// </remarks>
public sealed class NumpySeedSequence
{
    /// <summary>numpy's <c>DEFAULT_POOL_SIZE</c>: the number of uint32 words of mixed entropy.</summary>
    public const int PoolSize = 4;

    // numpy's hashmix constants (Melissa O'Neill's seed_seq_fe design). All arithmetic is on uint32 and wraps.
    private const uint InitA = 0x43b0d7e5;
    private const uint MultA = 0x931e8875;
    private const uint InitB = 0x8b51f9dd;
    private const uint MultB = 0x58f38ded;
    private const uint MixMultL = 0xca01f9dd;
    private const uint MixMultR = 0x4973f715;
    private const int XShift = 16; // 4 bytes * 8 bits / 2

    private readonly uint[] _pool;

    /// <summary>Seeds from a non-negative integer, as <c>SeedSequence(entropy)</c> does for a Python int.</summary>
    public NumpySeedSequence(ulong entropy)
        : this(IntegerToWords(entropy), null)
    {
    }

    /// <summary>Seeds from a non-negative integer of any size, as <c>SeedSequence(entropy)</c> does for a Python int.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="entropy"/> is negative (numpy rejects it too).</exception>
    public NumpySeedSequence(BigInteger entropy)
        : this(IntegerToWords(entropy), null)
    {
    }

    /// <summary>
    /// Seeds from entropy that is already split into uint32 words (least significant first, numpy's
    /// <c>_coerce_to_uint32_array</c> of an int) and an optional spawn key (also as uint32 words).
    /// </summary>
    public NumpySeedSequence(IReadOnlyList<uint> entropyWords, IReadOnlyList<uint>? spawnKeyWords = null)
    {
        ArgumentNullException.ThrowIfNull(entropyWords);
        if (entropyWords.Count == 0)
            throw new ArgumentException("At least one entropy word is required (numpy encodes 0 as [0]).", nameof(entropyWords));
        uint[] entropy = entropyWords.ToArray();
        uint[] spawnKey = spawnKeyWords?.ToArray() ?? [];
        EntropyWords = entropy;
        SpawnKeyWords = spawnKey;
        _pool = MixEntropy(AssembleEntropy(entropy, spawnKey));
    }

    /// <summary>The entropy as uint32 words, least significant first.</summary>
    public IReadOnlyList<uint> EntropyWords { get; }

    /// <summary>The spawn key as uint32 words (empty for a root sequence).</summary>
    public IReadOnlyList<uint> SpawnKeyWords { get; }

    /// <summary>The mixed entropy pool (numpy's <c>SeedSequence.pool</c>), for diagnostics and tests.</summary>
    public IReadOnlyList<uint> Pool => _pool;

    /// <summary>numpy's <c>generate_state(n_words, np.uint32)</c>.</summary>
    public uint[] GenerateState(int nWords)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nWords);
        var state = new uint[nWords];
        uint hashConst = InitB;
        for (int i = 0; i < nWords; i++)
        {
            // The pool is cycled: word i draws from pool[i mod 4].
            uint value = _pool[i % PoolSize];
            value ^= hashConst;
            hashConst = unchecked(hashConst * MultB);
            value = unchecked(value * hashConst);
            value ^= value >> XShift;
            state[i] = value;
        }
        return state;
    }

    /// <summary>
    /// numpy's <c>generate_state(n_words, np.uint64)</c>: twice as many uint32 words, viewed as little-endian uint64
    /// (low word first), which is how numpy reinterprets the array on every platform it supports.
    /// </summary>
    public ulong[] GenerateState64(int nWords)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nWords);
        uint[] words = GenerateState(2 * nWords);
        var state = new ulong[nWords];
        for (int i = 0; i < nWords; i++)
            state[i] = words[2 * i] | ((ulong)words[2 * i + 1] << 32);
        return state;
    }

    /// <summary>numpy's <c>_int_to_uint32_array</c>: little-endian uint32 words; zero is the single word 0.</summary>
    public static uint[] IntegerToWords(ulong value)
    {
        if (value == 0) return [0u];
        return value <= uint.MaxValue ? [(uint)value] : [(uint)value, (uint)(value >> 32)];
    }

    /// <summary>numpy's <c>_int_to_uint32_array</c> for an arbitrarily large non-negative integer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static uint[] IntegerToWords(BigInteger value)
    {
        if (value.Sign < 0)
            throw new ArgumentOutOfRangeException(nameof(value), value, "numpy seeds must be non-negative.");
        if (value.IsZero) return [0u];
        var words = new List<uint>();
        while (!value.IsZero)
        {
            words.Add((uint)(value & uint.MaxValue));
            value >>= 32;
        }
        return words.ToArray();
    }

    private static uint[] AssembleEntropy(uint[] entropy, IReadOnlyList<uint> spawnKey)
    {
        // numpy pads the run entropy with zeros to the pool size when a spawn key follows, so that the spawn key can
        // never be confused with high words of the entropy.
        if (spawnKey.Count == 0) return entropy;
        int runLength = Math.Max(entropy.Length, PoolSize);
        var assembled = new uint[runLength + spawnKey.Count];
        entropy.CopyTo(assembled, 0);
        for (int i = 0; i < spawnKey.Count; i++) assembled[runLength + i] = spawnKey[i];
        return assembled;
    }

    private static uint[] MixEntropy(uint[] entropy)
    {
        var mixer = new uint[PoolSize];
        uint hashConst = InitA;

        uint HashMix(uint value)
        {
            value ^= hashConst;
            hashConst = unchecked(hashConst * MultA);
            value = unchecked(value * hashConst);
            value ^= value >> XShift;
            return value;
        }

        static uint Mix(uint x, uint y)
        {
            uint result = unchecked(MixMultL * x - MixMultR * y);
            result ^= result >> XShift;
            return result;
        }

        // Fill the pool (missing entropy words count as 0), then mix every word into every other word, then fold in
        // any entropy beyond the pool size: the exact order of numpy's mix_entropy, which the hash constant depends on.
        for (int i = 0; i < PoolSize; i++)
            mixer[i] = HashMix(i < entropy.Length ? entropy[i] : 0u);
        for (int src = 0; src < PoolSize; src++)
            for (int dst = 0; dst < PoolSize; dst++)
                if (src != dst)
                    mixer[dst] = Mix(mixer[dst], HashMix(mixer[src]));
        for (int src = PoolSize; src < entropy.Length; src++)
            for (int dst = 0; dst < PoolSize; dst++)
                mixer[dst] = Mix(mixer[dst], HashMix(entropy[src]));
        return mixer;
    }
}
