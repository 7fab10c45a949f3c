using Plstm.Data.ArrowPointing;
using Plstm.Data.Random;

namespace Plstm.Tests.Data;

/// <summary>
/// The numpy port against values produced by numpy itself (<c>numpy.random.default_rng</c>, PCG64 + SeedSequence).
/// </summary>
public class NumpyRandomTests
{
    [Theory]
    [InlineData(42UL, new[] { 0.7739560485559633, 0.4388784397520523, 0.8585979199113825 })]
    [InlineData(0UL, new[] { 0.6369616873214543, 0.2697867137638703, 0.04097352393619469 })]
    [InlineData(12345UL, new[] { 0.22733602246716966, 0.31675833970975287, 0.7973654573327341 })]
    public void Random_matches_numpy_default_rng(ulong seed, double[] expected)
    {
        var rng = new Pcg64(seed);
        foreach (double e in expected)
            Assert.Equal(e, rng.NextDouble()); // bit-exact: same 53 bits, same scaling
    }

    [Fact]
    public void Small_range_integers_match_numpy_and_use_the_32_bit_path()
    {
        // default_rng(42).integers(10, size=3) == [0, 7, 6]; ranges below 2^32 draw buffered 32-bit halves.
        var rng = new Pcg64(42);
        Assert.Equal([0UL, 7UL, 6UL], new[] { rng.Integers(10), rng.Integers(10), rng.Integers(10) });
        var signed = new Pcg64(42);
        Assert.Equal([0L, 7L, 6L], new[] { signed.Integers(0, 10), signed.Integers(0, 10), signed.Integers(0, 10) });
    }

    [Fact]
    public void Master_seed_of_seed_42_matches_the_reference()
    {
        // default_rng(42).integers(2**62): a power-of-two range, so Lemire's method never rejects (draw >> 2).
        Assert.Equal(3569242288002845090UL, ArrowPointingGenerator.ComputeMasterSeed(42));
        var rng = new Pcg64(42);
        ulong draw = new Pcg64(42).NextUInt64();
        Assert.Equal(draw >> 2, rng.Integers(1UL << 62));
    }

    [Fact]
    public void Next_uint32_splits_one_64_bit_draw_low_half_first()
    {
        ulong draw = new Pcg64(7).NextUInt64();
        var rng = new Pcg64(7);
        Assert.Equal((uint)draw, rng.NextUInt32());
        Assert.Equal((uint)(draw >> 32), rng.NextUInt32());
    }

    [Fact]
    public void Integers_stays_in_range_and_degenerate_ranges_do_not_draw()
    {
        var rng = new Pcg64(1);
        for (int i = 0; i < 1000; i++)
        {
            Assert.InRange(rng.Integers(3), 0UL, 2UL);
            Assert.InRange(rng.Integers((1UL << 40) + 3), 0UL, (1UL << 40) + 2);
            Assert.InRange(rng.Integers(-5, 5), -5L, 4L);
        }
        var a = new Pcg64(9);
        var b = new Pcg64(9);
        Assert.Equal(0UL, a.Integers(1)); // range 0: numpy returns the offset without consuming a draw
        Assert.Equal(b.NextUInt64(), a.NextUInt64());
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Integers(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Integers(3, 3));
    }

    [Fact]
    public void Seed_words_follow_numpy_int_coercion()
    {
        Assert.Equal([0u], NumpySeedSequence.IntegerToWords(0UL));
        Assert.Equal([5u], NumpySeedSequence.IntegerToWords(5UL));
        Assert.Equal([0x89abcdefu, 0x01234567u], NumpySeedSequence.IntegerToWords(0x0123456789abcdefUL));
        Assert.Equal(NumpySeedSequence.IntegerToWords(0x0123456789abcdefUL),
            NumpySeedSequence.IntegerToWords(new System.Numerics.BigInteger(0x0123456789abcdefUL)));
        Assert.Throws<ArgumentOutOfRangeException>(() => NumpySeedSequence.IntegerToWords(System.Numerics.BigInteger.MinusOne));
        // The ulong, BigInteger and word-list constructors agree.
        var fromLong = new NumpySeedSequence(123456789012345UL);
        var fromWords = new NumpySeedSequence(NumpySeedSequence.IntegerToWords(123456789012345UL));
        Assert.Equal(fromLong.GenerateState(8), fromWords.GenerateState(8));
        // uint64 state is the uint32 state viewed little-endian.
        uint[] w = fromLong.GenerateState(4);
        Assert.Equal([w[0] | ((ulong)w[1] << 32), w[2] | ((ulong)w[3] << 32)], fromLong.GenerateState64(2));
    }

    [Fact]
    public void Spawn_key_changes_the_state()
    {
        var root = new NumpySeedSequence([42u]);
        var child = new NumpySeedSequence([42u], [0u]);
        Assert.NotEqual(root.GenerateState(4), child.GenerateState(4));
    }
}
