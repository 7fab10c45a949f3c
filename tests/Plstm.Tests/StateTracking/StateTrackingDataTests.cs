using Plstm.Data.StateTracking;

namespace Plstm.Tests.StateTracking;

/// <summary>The generated parity and S5 tasks: hand-computed examples, group laws, determinism and lengths.</summary>
public sealed class StateTrackingDataTests
{
    private static long[] Targets(StateTrackingTask task, params long[] tokens)
    {
        var targets = new long[tokens.Length];
        task.Targets(tokens, targets);
        return targets;
    }

    [Fact]
    public void Parity_target_is_the_running_xor()
    {
        Assert.Equal([1L, 1, 0, 1, 1, 1, 0], Targets(StateTrackingTask.Parity, 1, 0, 1, 1, 0, 0, 1));
        Assert.Equal([0L, 0, 0], Targets(StateTrackingTask.Parity, 0, 0, 0));
    }

    [Fact]
    public void Permutations_are_indexed_lexicographically()
    {
        Assert.Equal([0, 1, 2, 3, 4], Permutation5.ToArray(Permutation5.Identity));
        Assert.Equal([0, 1, 2, 4, 3], Permutation5.ToArray(1));
        Assert.Equal([1, 0, 2, 3, 4], Permutation5.ToArray(24));
        Assert.Equal([4, 3, 2, 1, 0], Permutation5.ToArray(119));
        for (int i = 0; i < Permutation5.Count; i++)
            Assert.Equal(i, Permutation5.IndexOf(Permutation5.ToArray(i)));
        Assert.Throws<ArgumentException>(() => Permutation5.IndexOf([0, 0, 1, 2, 3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Permutation5.ToArray(120));
    }

    [Fact]
    public void Composition_applies_the_right_operand_first()
    {
        int a = Permutation5.IndexOf([1, 0, 2, 3, 4]);     // swaps 0 and 1
        int b = Permutation5.IndexOf([0, 2, 1, 3, 4]);     // swaps 1 and 2
        // (a ∘ b)(i) = a(b(i)): 0 → a(0) = 1, 1 → a(2) = 2, 2 → a(1) = 0.
        Assert.Equal([1, 2, 0, 3, 4], Permutation5.ToArray(Permutation5.Compose(a, b)));
        Assert.Equal([2, 0, 1, 3, 4], Permutation5.ToArray(Permutation5.Compose(b, a)));
        // The running product applies the earliest token first: s1 = g1 ∘ g0, s2 = g2 ∘ s1.
        int c = Permutation5.IndexOf([0, 1, 2, 4, 3]);     // swaps 3 and 4
        var targets = Targets(StateTrackingTask.S5, a, b, c);
        Assert.Equal(a, targets[0]);
        Assert.Equal([2, 0, 1, 3, 4], Permutation5.ToArray((int)targets[1]));
        Assert.Equal([2, 0, 1, 4, 3], Permutation5.ToArray((int)targets[2]));
    }

    [Fact]
    public void S5_is_a_group_and_the_sign_is_a_homomorphism()
    {
        var random = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            int a = random.Next(120), b = random.Next(120), c = random.Next(120);
            Assert.Equal(Permutation5.Compose(Permutation5.Compose(a, b), c), Permutation5.Compose(a, Permutation5.Compose(b, c)));
            Assert.Equal(Permutation5.Sign(a) * Permutation5.Sign(b), Permutation5.Sign(Permutation5.Compose(a, b)));
        }
        for (int a = 0; a < 120; a++)
        {
            Assert.Equal(a, Permutation5.Compose(a, Permutation5.Identity));
            Assert.Equal(a, Permutation5.Compose(Permutation5.Identity, a));
            Assert.Single(Enumerable.Range(0, 120), b => Permutation5.Compose(a, b) == Permutation5.Identity);
        }
        Assert.Equal(60, Enumerable.Range(0, 120).Count(p => Permutation5.Sign(p) == 1));
    }

    [Theory]
    [InlineData(StateTrackingTask.Parity, 2)]
    [InlineData(StateTrackingTask.S5, 120)]
    public void Generator_is_deterministic_by_seed_with_the_asked_shape(StateTrackingTask task, int vocab)
    {
        var a = StateTrackingGenerator.ForTraining(task, 7).Next(5, 33);
        var b = StateTrackingGenerator.ForTraining(task, 7).Next(5, 33);
        var c = StateTrackingGenerator.ForTraining(task, 8).Next(5, 33);
        Assert.Equal((5, 33), (a.BatchSize, a.Length));
        Assert.Equal(5 * 33, a.Tokens.Length);
        Assert.Equal(5 * 33, a.Targets.Length);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Targets, b.Targets);
        Assert.NotEqual(a.Tokens, c.Tokens);
        Assert.All(a.Tokens, t => Assert.InRange(t, 0, vocab - 1));
        Assert.All(a.Targets, t => Assert.InRange(t, 0, vocab - 1));
        for (int row = 0; row < a.BatchSize; row++)
            Assert.Equal(Targets(task, a.TokensOf(row).ToArray()), a.TargetsOf(row).ToArray());
        // Uniform draws: every token value occurs in a long enough sample.
        var many = StateTrackingGenerator.ForTraining(task, 9).Next(40, 256);
        Assert.Equal(vocab, many.Tokens.Distinct().Count());
    }

    [Fact]
    public void Test_sets_are_fixed_per_seed_and_length_and_differ_from_training()
    {
        var t64 = StateTrackingGenerator.TestSet(StateTrackingTask.S5, 3, 4, 64);
        Assert.Equal(t64.Tokens, StateTrackingGenerator.TestSet(StateTrackingTask.S5, 3, 4, 64).Tokens);
        Assert.Equal((4, 256), (StateTrackingGenerator.TestSet(StateTrackingTask.S5, 3, 4, 256).BatchSize,
            StateTrackingGenerator.TestSet(StateTrackingTask.S5, 3, 4, 256).Length));
        Assert.NotEqual(t64.Tokens, StateTrackingGenerator.ForTraining(StateTrackingTask.S5, 3).Next(4, 64).Tokens);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var generator = StateTrackingGenerator.ForTraining(StateTrackingTask.Parity, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Next(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Next(4, 0));
        Assert.Throws<ArgumentException>(() => Targets(StateTrackingTask.Parity, 0, 2));
        Assert.Throws<ArgumentException>(() => Targets(StateTrackingTask.S5, 120));
        Assert.Equal(StateTrackingTask.S5, StateTrackingTasks.Parse("S5"));
        Assert.Equal(StateTrackingTask.Parity, StateTrackingTasks.Parse("parity"));
        var ex = Assert.Throws<ArgumentException>(() => StateTrackingTasks.Parse("a5"));
        Assert.Contains("parity, s5", ex.Message);
    }
}
