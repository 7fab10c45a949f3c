using Plstm.Models;
using Plstm.Tests.Support;

namespace Plstm.Tests.Models;

/// <summary>Resolution change (models §6.3 step 2, §10): the positional embedding is resized bicubically.</summary>
public class ResolutionTests
{
    [Fact]
    public void Plstm_ape_shaped_model_trained_at_192_runs_at_384()
    {
        using var scope = NewDisposeScope();
        manual_seed(21);
        // The APE preset with a small width (D 48, H 6, 1 pair) to stay fast; the grid goes 12×12 → 24×24.
        var config = ModelRegistry.Get("plstm_vit_ape").PlstmConfig! with { Dim = 48, NumBlocks = 1 };
        using var model = new PlstmVisionModel(config);
        model.eval();
        Assert.Equal(new long[] { 1, 12, 12, 48 }, model.PositionEmbedding!.Embed.shape);
        using (no_grad())
        {
            var small = model.forward(randn(1, 192, 192, 3));
            var large = model.forward(randn(1, 384, 384, 3));
            Assert.Equal(new long[] { 1, 2 }, small.shape);
            Assert.Equal(new long[] { 1, 2 }, large.shape);
            Assert.True(large.isfinite().all().item<bool>());
        }
    }

    [Fact]
    public void Vit_ape_shaped_model_trained_at_192_runs_at_384()
    {
        using var scope = NewDisposeScope();
        manual_seed(22);
        var config = ModelRegistry.Get("vit_ape").VitConfig! with { Dim = 48, NumBlocks = 2 };
        using var model = new VisionTransformer(config);
        model.eval();
        using (no_grad())
        {
            var small = model.forward(randn(1, 192, 192, 3));
            var large = model.forward(randn(1, 384, 384, 3));
            Assert.Equal(new long[] { 1, 2 }, small.shape);
            Assert.Equal(new long[] { 1, 2 }, large.shape);
            Assert.True(large.isfinite().all().item<bool>());
        }
    }

    [Theory]
    [InlineData("plstm_vit_tiny")]
    [InlineData("vit_tiny")]
    public void Tiny_presets_run_at_twice_their_image_size_and_non_square(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(23);
        using var model = ModelRegistry.Create(name);
        model.eval();
        using (no_grad())
        {
            Assert.Equal(new long[] { 2, 10 }, model.forward(randn(2, 64, 64, 3)).shape);
            Assert.Equal(new long[] { 2, 10 }, model.forward(randn(2, 24, 40, 3)).shape);
        }
    }

    [Fact]
    public void Running_at_another_size_equals_adding_the_resized_embedding()
    {
        using var scope = NewDisposeScope();
        manual_seed(24);
        using var trained = ModelRegistry.Create("vit_tiny");                           // 4×4 grid
        using var large = ModelRegistry.Create("vit_tiny", imageSize: 64);               // 8×8 grid
        trained.to(float64);
        large.to(float64);
        var state = trained.state_dict();
        using (no_grad())
        {
            foreach (var (key, value) in large.state_dict())
                value.copy_(key == "pos_embed.embed" ? PositionEmbedding2D.Resize(state[key], 8, 8) : state[key]);
            var images = randn(2, 64, 64, 3, dtype: float64);
            TensorAssert.AssertClose(trained.forward(images), large.forward(images), "resized run",
                Tolerances.Float64Rtol, Tolerances.Float64Atol);
        }
    }

    [Fact]
    public void Resize_is_bicubic_without_align_corners()
    {
        using var scope = NewDisposeScope();
        manual_seed(25);
        var embed = randn(1, 3, 4, 2, dtype: float64);
        var resized = PositionEmbedding2D.Resize(embed, 5, 7);
        Assert.Equal(new long[] { 1, 5, 7, 2 }, resized.shape);
        var expected = ReferenceBicubic(embed, 5, 7);
        TensorAssert.AssertClose(resized, expected, "bicubic", 1e-12, 1e-12);
        // Same grid: unchanged.
        TensorAssert.AssertClose(PositionEmbedding2D.Resize(embed, 3, 4), embed, "identity", 0, 0);
    }

    /// <summary>
    /// PyTorch's bicubic upsampling written out: source coordinate (dst + 0.5)·in/out − 0.5, cubic convolution kernel
    /// with A = −0.75, taps clamped to the border.
    /// </summary>
    private static Tensor ReferenceBicubic(Tensor embed, int outX, int outY)
    {
        var input = embed.squeeze(0);                                                   // [X, Y, D]
        long inX = input.shape[0], inY = input.shape[1], d = input.shape[2];
        var src = input.data<double>().ToArray();
        var dst = new double[outX * outY * d];
        static double[] Weights(double t)
        {
            const double A = -0.75;
            static double Near(double x, double a) => ((a + 2) * x - (a + 3)) * x * x + 1;
            static double Far(double x, double a) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
            return new[] { Far(t + 1, A), Near(t, A), Near(1 - t, A), Far(2 - t, A) };
        }
        for (int i = 0; i < outX; i++)
        {
            double sx = (i + 0.5) * inX / outX - 0.5;
            int fx = (int)Math.Floor(sx);
            var wx = Weights(sx - fx);
            for (int j = 0; j < outY; j++)
            {
                double sy = (j + 0.5) * inY / outY - 0.5;
                int fy = (int)Math.Floor(sy);
                var wy = Weights(sy - fy);
                for (int c = 0; c < d; c++)
                {
                    double sum = 0;
                    for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++)
                    {
                        long xi = Math.Clamp(fx - 1 + a, 0, inX - 1);
                        long yi = Math.Clamp(fy - 1 + b, 0, inY - 1);
                        sum += wx[a] * wy[b] * src[(xi * inY + yi) * d + c];
                    }
                    dst[(i * outY + j) * d + c] = sum;
                }
            }
        }
        return tensor(dst, new long[] { 1, outX, outY, d }, dtype: float64);
    }
}
