using Plstm.Training;

namespace Plstm.Tests.Training;

/// <summary>The batch random crop + horizontal flip: identity, flip, crop window against a naive loop, determinism.</summary>
public class RandomCropFlipTests
{
    /// <summary>A batch of distinct values from a managed generator (torch's global generator is left alone).</summary>
    private static Tensor Batch(int batch, int channels, int height, int width, int seed = 1)
    {
        var random = new Random(seed);
        var values = new float[batch * channels * height * width];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 4 - 2);
        return tensor(values, [batch, channels, height, width]);
    }

    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    [Fact]
    public void Padding_0_and_flip_probability_0_is_the_identity()
    {
        using var scope = NewDisposeScope();
        var images = Batch(5, 3, 6, 7);
        var augmentation = new RandomCropFlip(padding: 0, flipProbability: 0, seed: 3);
        foreach (long counter in new long[] { 0, 1, 17, 1_000_000 })
        {
            var output = augmentation.Augment(images, counter);
            Assert.Equal(images.shape, output.shape);
            Assert.Equal(Values(images), Values(output));
        }
    }

    [Fact]
    public void Flip_probability_1_equals_torch_flip_on_the_last_axis()
    {
        using var scope = NewDisposeScope();
        var images = Batch(4, 2, 5, 6);
        var augmentation = new RandomCropFlip(padding: 0, flipProbability: 1, seed: 3);
        var output = augmentation.Augment(images, counter: 9);
        Assert.Equal(Values(images.flip(3)), Values(output));
        Assert.All(augmentation.Draw(9, 4).Flip, Assert.True);
    }

    [Theory]
    [InlineData(2, new float[] { -0.81f })]
    [InlineData(3, new float[] { -1.5f, 2.25f })]
    [InlineData(1, null)]
    public void Crop_is_a_shifted_window_of_the_padded_input(int padding, float[]? fill)
    {
        using var scope = NewDisposeScope();
        const int B = 6, C = 2, H = 7, W = 9;
        var images = Batch(B, C, H, W, seed: padding);
        var x = Values(images);
        var augmentation = new RandomCropFlip(padding, flipProbability: 0.5, fill, seed: 11);
        bool sawFlip = false, sawPlain = false, sawShift = false;
        for (long counter = 0; counter < 4; counter++)
        {
            var decision = augmentation.Draw(counter, B);
            var y = Values(augmentation.Apply(images, decision));
            for (int b = 0; b < B; b++)
            {
                int top = decision.Top[b], left = decision.Left[b];
                Assert.InRange(top, 0, 2 * padding);
                Assert.InRange(left, 0, 2 * padding);
                sawShift |= top != padding || left != padding;
                if (decision.Flip[b]) sawFlip = true;
                else sawPlain = true;
                // Naive reference: zero-pad (here: fill-pad) by p, take the window at (top, left), mirror it if flipped.
                for (int c = 0; c < C; c++)
                {
                    float background = fill is null ? 0f : fill.Length == 1 ? fill[0] : fill[c];
                    for (int h = 0; h < H; h++)
                        for (int w = 0; w < W; w++)
                        {
                            int sourceRow = top + h - padding;
                            int sourceCol = left + (decision.Flip[b] ? W - 1 - w : w) - padding;
                            float expected = sourceRow is >= 0 and < H && sourceCol is >= 0 and < W
                                ? x[((b * C + c) * H + sourceRow) * W + sourceCol]
                                : background;
                            Assert.Equal(expected, y[((b * C + c) * H + h) * W + w]);
                        }
                }
            }
        }
        Assert.True(sawFlip && sawPlain && sawShift, $"flip {sawFlip}, plain {sawPlain}, shift {sawShift}");
    }

    [Fact]
    public void Draws_are_a_function_of_seed_and_counter()
    {
        var a = new RandomCropFlip(padding: 4, flipProbability: 0.5, seed: 7);
        var b = new RandomCropFlip(padding: 4, flipProbability: 0.5, seed: 7);
        var otherSeed = new RandomCropFlip(padding: 4, flipProbability: 0.5, seed: 8);
        static string Text(CropFlipDecision d) =>
            string.Join(' ', Enumerable.Range(0, d.Count).Select(i => $"{d.Top[i]},{d.Left[i]},{d.Flip[i]}"));

        // Any order of calls: no state is carried from one batch to the next.
        string at5 = Text(a.Draw(5, 32));
        Text(a.Draw(6, 32));
        Assert.Equal(at5, Text(a.Draw(5, 32)));
        Assert.Equal(at5, Text(b.Draw(5, 32)));
        Assert.NotEqual(at5, Text(a.Draw(6, 32)));
        Assert.NotEqual(at5, Text(otherSeed.Draw(5, 32)));

        using var scope = NewDisposeScope();
        var images = Batch(32, 1, 10, 10);
        Assert.Equal(Values(a.Augment(images, 5)), Values(b.Augment(images, 5)));

        // Offsets are uniform over [0, 2p] and about half the samples are flipped.
        var many = Enumerable.Range(0, 200).Select(i => a.Draw(i, 16)).ToList();
        var tops = many.SelectMany(d => d.Top).ToList();
        Assert.Equal(Enumerable.Range(0, 9), tops.Distinct().Order());
        double flipped = many.SelectMany(d => d.Flip).Average(f => f ? 1.0 : 0.0);
        Assert.InRange(flipped, 0.45, 0.55);
    }

    [Fact]
    public void Per_channel_fill_and_single_fill_agree_when_equal()
    {
        using var scope = NewDisposeScope();
        var images = Batch(3, 3, 5, 5);
        var single = new RandomCropFlip(2, 0.5, [0.25f], seed: 2);
        var perChannel = new RandomCropFlip(2, 0.5, [0.25f, 0.25f, 0.25f], seed: 2);
        Assert.Equal(Values(single.Augment(images, 4)), Values(perChannel.Augment(images, 4)));
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument()
    {
        Assert.Equal("padding", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomCropFlip(-1, 0.5)).ParamName);
        Assert.Equal("flipProbability",
            Assert.Throws<ArgumentOutOfRangeException>(() => new RandomCropFlip(2, 1.5)).ParamName);
        Assert.Equal("flipProbability",
            Assert.Throws<ArgumentOutOfRangeException>(() => new RandomCropFlip(2, double.NaN)).ParamName);
        Assert.Equal("fill",
            Assert.Throws<ArgumentOutOfRangeException>(() => new RandomCropFlip(2, 0.5, [float.NaN])).ParamName);

        using var scope = NewDisposeScope();
        var images = Batch(2, 1, 4, 4);
        var error = Assert.Throws<ArgumentException>(() => new RandomCropFlip(4, 0).Augment(images, 0));
        Assert.Equal("images", error.ParamName);
        Assert.Contains("smaller than the 4×4 images", error.Message);
        error = Assert.Throws<ArgumentException>(() => new RandomCropFlip(1, 0, [1f, 2f]).Augment(images, 0));
        Assert.Equal("images", error.ParamName);
        var decision = new CropFlipDecision([0, 3], [0, 0], [false, false]);
        error = Assert.Throws<ArgumentException>(() => new RandomCropFlip(1, 0).Apply(images, decision));
        Assert.Equal("decision", error.ParamName);
    }
}
