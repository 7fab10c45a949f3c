namespace Plstm.Data.Random;

/// <summary>
/// A port of numpy's <c>PCG64</c> bit generator (PCG XSL-RR 128/64) together with the few <c>numpy.random.Generator</c>
/// methods this project needs (<c>random()</c>, <c>uniform()</c>, <c>integers()</c>), reproducing numpy's output
/// stream exactly. <c>new Pcg64(seed)</c> corresponds to <c>numpy.random.default_rng(seed)</c>.
/// </summary>
/// <remarks>
/// Not thread-safe (like a numpy Generator without its lock): give each thread, or each sample, its own instance.
/// </remarks>
public sealed class Pcg64
{
    /// <summary>The 128-bit LCG multiplier of PCG64 (numpy's <c>PCG_DEFAULT_MULTIPLIER_128</c>).</summary>
    public static readonly UInt128 Multiplier = new(0x2360ed051fc65da4UL, 0x4385df649fccf645UL);

    private UInt128 _state;
    private readonly UInt128 _increment;

    // numpy's PCG64 hands out 32-bit values in pairs: one 64-bit draw yields its low half now and keeps the high half
    // for the next 32-bit request. Only the bounded-integer paths for ranges below 2^32 use it.
    private bool _hasUInt32;
    private uint _uinteger;

    /// <summary>Seeds like <c>numpy.random.default_rng(seed)</c>, i.e. <c>PCG64(SeedSequence(seed))</c>.</summary>
    public Pcg64(ulong seed)
        : this(new NumpySeedSequence(seed))
    {
    }

    /// <summary>Seeds like <c>PCG64(seedSequence)</c>: four uint64 words of state; the first two are the 128-bit
    /// initial state (high word first), the last two the 128-bit stream selector.</summary>
    public Pcg64(NumpySeedSequence seedSequence)
    {
        ArgumentNullException.ThrowIfNull(seedSequence);
        ulong[] words = seedSequence.GenerateState64(4);
        var initState = new UInt128(words[0], words[1]);
        var initSequence = new UInt128(words[2], words[3]);
        // pcg_setseq_128_srandom_r: the increment must be odd; the state is advanced once before and once after
        // adding the initial state, exactly as numpy's pcg64_set_seed does.
        _increment = (initSequence << 1) | UInt128.One;
        _state = UInt128.Zero;
        Step();
        _state += initState;
        Step();
    }

    /// <summary>The current 128-bit LCG state (numpy's <c>bit_generator.state["state"]["state"]</c>).</summary>
    public UInt128 State => _state;

    /// <summary>The odd 128-bit LCG increment (numpy's <c>bit_generator.state["state"]["inc"]</c>).</summary>
    public UInt128 Increment => _increment;

    /// <summary>The next 64 random bits (numpy's <c>next_uint64</c> of PCG64).</summary>
    public ulong NextUInt64()
    {
        Step();
        // XSL-RR output: xor the halves, rotate right by the top 6 bits of the state.
        ulong high = (ulong)(_state >> 64);
        ulong low = (ulong)_state;
        int rotation = (int)(high >> 58);
        return ulong.RotateRight(high ^ low, rotation);
    }

    /// <summary>The next 32 random bits (numpy's <c>next_uint32</c> of PCG64, with its half-draw buffer).</summary>
    public uint NextUInt32()
    {
        if (_hasUInt32)
        {
            _hasUInt32 = false;
            return _uinteger;
        }
        ulong next = NextUInt64();
        _hasUInt32 = true;
        _uinteger = (uint)(next >> 32);
        return (uint)next;
    }

    /// <summary>numpy's <c>Generator.random()</c>: a double in [0, 1) from the top 53 bits of one 64-bit draw.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>numpy's <c>Generator.uniform(low, high)</c>: <c>low + (high − low)·random()</c>.</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>
    /// numpy's <c>Generator.integers(high)</c> (default <c>endpoint=False</c>): an integer in [0, high), drawn with
    /// numpy's unmasked bounded-integer algorithm (Lemire's multiply-and-reject) on the inclusive range high − 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="high"/> is 0 (numpy: "high &lt;= 0").</exception>
    public ulong Integers(ulong high)
    {
        if (high == 0)
            throw new ArgumentOutOfRangeException(nameof(high), high, "high must be positive (numpy: low >= high).");
        return BoundedUInt64(high - 1);
    }

    /// <summary>numpy's <c>Generator.integers(low, high)</c> for 64-bit integers: a value in [low, high).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="low"/> ≥ <paramref name="high"/>.</exception>
    public long Integers(long low, long high)
    {
        if (low >= high)
            throw new ArgumentOutOfRangeException(nameof(high), high, $"high must exceed low ({low}).");
        // numpy draws an offset in [0, rng] with rng = high − 1 − low computed in uint64, then adds low back.
        ulong range = unchecked((ulong)(high - 1) - (ulong)low);
        return unchecked(low + (long)BoundedUInt64(range));
    }

    /// <summary>numpy's <c>random_bounded_uint64_fill</c> for one value, unmasked: a uniform integer in [0, rng].</summary>
    private ulong BoundedUInt64(ulong rng)
    {
        if (rng == 0) return 0; // numpy returns the offset without drawing.
        if (rng <= uint.MaxValue)
        {
            // Ranges that fit in 32 bits use the 32-bit generator (and its half-draw buffer), as numpy does.
            if (rng == uint.MaxValue) return NextUInt32();
            return BoundedLemireUInt32((uint)rng);
        }
        if (rng == ulong.MaxValue) return NextUInt64();
        return BoundedLemireUInt64(rng);
    }

    private ulong BoundedLemireUInt64(ulong rng)
    {
        // Lemire (2019): the high word of draw·(rng+1) is uniform once draws whose low word falls below
        // 2^64 mod (rng+1) are rejected. For a power-of-two range such as integers(2**62) the threshold is 0 and
        // the result is simply draw >> 2.
        ulong rngExcl = rng + 1;
        ulong high = Math.BigMul(NextUInt64(), rngExcl, out ulong leftover);
        if (leftover < rngExcl)
        {
            ulong threshold = (ulong.MaxValue - rng) % rngExcl;
            while (leftover < threshold)
                high = Math.BigMul(NextUInt64(), rngExcl, out leftover);
        }
        return high;
    }

    private uint BoundedLemireUInt32(uint rng)
    {
        uint rngExcl = rng + 1;
        ulong m = (ulong)NextUInt32() * rngExcl;
        uint leftover = (uint)m;
        if (leftover < rngExcl)
        {
            uint threshold = (uint.MaxValue - rng) % rngExcl;
            while (leftover < threshold)
            {
                m = (ulong)NextUInt32() * rngExcl;
                leftover = (uint)m;
            }
        }
        return (uint)(m >> 32);
    }

    private void Step() => _state = unchecked(_state * Multiplier + _increment);
}
