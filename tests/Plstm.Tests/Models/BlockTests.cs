using Plstm.Blocks;
using Plstm.Tests.Support;
using TorchSharp.Modules;

namespace Plstm.Tests.Models;

/// <summary>Numerics of the building blocks (models §6.1, §6.5) against direct formulas in float64.</summary>
public class BlockTests
{
    [Fact]
    public void RmsNorm_matches_the_formula_and_keeps_the_input_dtype()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var norm = new RmsNorm("norm", 6, eps: 1e-5);
        norm.to(float64);
        using (no_grad()) norm.Scale.copy_(linspace(0.5, 1.5, 6, dtype: float64));
        var x = randn(2, 3, 6, dtype: float64);
        var expected = x / (x.square().mean(new long[] { -1 }, keepdim: true) + 1e-5).sqrt() * linspace(0.5, 1.5, 6, dtype: float64);
        TensorAssert.AssertClose(norm.forward(x), expected, "rms norm", Tolerances.Float64Rtol, Tolerances.Float64Atol);

        // Every gradient (x and the scale) as autograd of the formula gives it: the norm computes in place on its own
        // temporaries.
        var upstream = randn(2, 3, 6, dtype: float64);
        var leaf = x.clone().requires_grad_(true);
        var scale = linspace(0.5, 1.5, 6, dtype: float64).requires_grad_(true);
        var formula = leaf / (leaf.square().mean(new long[] { -1 }, keepdim: true) + 1e-5).sqrt() * scale;
        var expectedGrads = torch.autograd.grad(new[] { (formula * upstream).sum() }, new[] { leaf, scale });
        var moduleLeaf = x.clone().requires_grad_(true);
        norm.zero_grad(true);
        (norm.forward(moduleLeaf) * upstream).sum().backward();
        TensorAssert.AssertClose(moduleLeaf.grad!, expectedGrads[0], "dx", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(norm.Scale.grad!, expectedGrads[1], "dscale", Tolerances.Float64Rtol, Tolerances.Float64Atol);

        norm.to(float32);
        var half = x.to(bfloat16);
        var y = norm.forward(half);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        Assert.Throws<ArgumentException>(() => norm.forward(randn(2, 5)));
    }

    [Fact]
    public void DropPath_is_identity_in_eval_and_drops_whole_samples_in_training()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var drop = new DropPath("drop_path", 0.5);
        var x = ones(400, 3, 2, dtype: float64);
        drop.eval();
        TensorAssert.AssertClose(drop.forward(x), x, "eval", 0, 0);

        drop.train();
        var y = drop.forward(x);
        // Each sample is either dropped (all 0) or kept and scaled by 1/(1−p) = 2, over every other axis.
        var perSampleMin = y.amin(new long[] { 1, 2 });
        var perSampleMax = y.amax(new long[] { 1, 2 });
        TensorAssert.AssertClose(perSampleMin, perSampleMax, "per-sample mask", 0, 0);
        var values = perSampleMin.data<double>().ToArray();
        Assert.All(values, v => Assert.True(v == 0.0 || v == 2.0, $"unexpected value {v}"));
        int kept = values.Count(v => v == 2.0);
        Assert.InRange(kept, 140, 260); // Binomial(400, 0.5): mean 200, sd 10

        using var none = new DropPath("none", 0.0);
        none.train();
        TensorAssert.AssertClose(none.forward(x), x, "p = 0", 0, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DropPath("bad", 1.0));
    }

    [Fact]
    public void LayerScale_scales_channels()
    {
        using var scope = NewDisposeScope();
        using var scale = new LayerScale("scale", 3, 0.25);
        var y = scale.forward(ones(2, 3));
        TensorAssert.AssertClose(y, full(2, 3, 0.25f), "gamma", 0, 0);
    }

    [Theory]
    [InlineData(192, 768)]
    [InlineData(384, 1536)]
    [InlineData(768, 3072)]
    [InlineData(64, 256)]
    [InlineData(100, 448)]
    [InlineData(1, 64)]
    public void Mlp_inner_width_rounds_4d_up_to_a_multiple_of_64(long dim, long inner) =>
        Assert.Equal(inner, Mlp.InnerDim(dim));

    [Fact]
    public void Mlp_init_and_forward_follow_the_spec()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var mlp = new Mlp("mlp", 192);
        Assert.Equal(new[] { "upproj.weight", "upproj.bias", "downproj.weight", "downproj.bias" },
            mlp.named_parameters().Select(p => p.name).ToArray());
        // SmallInit with fan = in_features: std sqrt(2/(5·192)) = 0.04564 (up), sqrt(2/(5·768)) = 0.02282 (down).
        Assert.InRange(mlp.UpProjection.weight!.std().item<float>(), 0.0436, 0.0477);
        Assert.InRange(mlp.DownProjection.weight!.std().item<float>(), 0.0218, 0.0239);
        Assert.Equal(0f, mlp.UpProjection.bias!.abs().max().item<float>());

        mlp.to(float64);
        var x = randn(2, 5, 192, dtype: float64);
        var up = mlp.UpProjection;
        var down = mlp.DownProjection;
        var h = x.matmul(up.weight!.t()) + up.bias!;
        var gelu = 0.5 * h * (1 + special.erf(h / Math.Sqrt(2)));
        var expected = gelu.matmul(down.weight!.t()) + down.bias!;
        TensorAssert.AssertClose(mlp.forward(x), expected, "mlp", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void PostUp_block_computes_the_residual_formula()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var layer = nn.Linear(8, 8, hasBias: false);
        using var block = new PostUpProjectionBlock("block0", 8, layer);
        block.to(float64);
        block.eval();
        Assert.Equal(new[]
        {
            "norm.scale", "norm2.scale", "upproj.weight", "upproj.bias", "interaction_module.weight",
            "downproj.weight", "downproj.bias",
        }, block.named_parameters().Select(p => p.name).ToArray());

        var x = randn(2, 3, 4, 8, dtype: float64);
        static Tensor Rms(Tensor t) => t / (t.square().mean(new long[] { -1 }, keepdim: true) + 1e-5).sqrt();
        var x2 = x + Rms(x).matmul(layer.weight!.t());
        var expected = x2 + Mlp.Apply(Rms(x2), (Linear)block.named_children().Single(c => c.name == "upproj").module,
            (Linear)block.named_children().Single(c => c.name == "downproj").module);
        TensorAssert.AssertClose(block.forward(x), expected, "postup", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void Transformer_block_matches_explicit_softmax_attention()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var block = new TransformerBlock("0", 12, 3, layerScaleInit: 0.5);
        block.to(float64);
        block.eval();
        var p = block.named_parameters().ToDictionary(t => t.name, t => (Tensor)t.parameter);
        var x = randn(2, 7, 12, dtype: float64);

        static Tensor Rms(Tensor t) => t / (t.square().mean(new long[] { -1 }, keepdim: true) + 1e-5).sqrt();
        var qkv = Rms(x).matmul(p["qkv.weight"].t()) + p["qkv.bias"];                  // [2, 7, 36]
        Tensor Heads(Tensor t) => t.reshape(2, 7, 3, 4).permute(0, 2, 1, 3);           // [2, 3, 7, 4]
        var q = Heads(qkv.narrow(-1, 0, 12));
        var k = Heads(qkv.narrow(-1, 12, 12));
        var v = Heads(qkv.narrow(-1, 24, 12));
        var attention = (q.matmul(k.transpose(-1, -2)) / 2.0).softmax(-1);             // √(D/H) = 2
        var merged = attention.matmul(v).permute(0, 2, 1, 3).reshape(2, 7, 12);
        var x2 = x + 0.5 * (merged.matmul(p["outproj.weight"].t()) + p["outproj.bias"]);
        var h = Rms(x2).matmul(p["upproj.weight"].t()) + p["upproj.bias"];
        var mlp = (0.5 * h * (1 + special.erf(h / Math.Sqrt(2)))).matmul(p["downproj.weight"].t()) + p["downproj.bias"];
        var expected = x2 + 0.5 * mlp;

        TensorAssert.AssertClose(block.forward(x), expected, "transformer block", 1e-9, 1e-10);
        // A grid input [B, X, Y, D] is attended as one token sequence and keeps its shape.
        var grid = x.reshape(2, 7, 1, 12);
        TensorAssert.AssertClose(block.forward(grid), expected.reshape(2, 7, 1, 12), "grid input", 1e-9, 1e-10);
    }

    [Fact]
    public void Block_pair_modes_select_layer_modes()
    {
        Assert.Equal((Plstm.Layers.Plstm2DMode.P, Plstm.Layers.Plstm2DMode.D), PlstmVisionBlockPair.Modes(PlstmBlockMode.PD));
        Assert.Equal((Plstm.Layers.Plstm2DMode.P, Plstm.Layers.Plstm2DMode.P), PlstmVisionBlockPair.Modes(PlstmBlockMode.PP));
        Assert.Equal((Plstm.Layers.Plstm2DMode.D, Plstm.Layers.Plstm2DMode.D), PlstmVisionBlockPair.Modes(PlstmBlockMode.DD));
        Assert.Equal((Plstm.Layers.Plstm2DMode.D, Plstm.Layers.Plstm2DMode.P), PlstmVisionBlockPair.Modes(PlstmBlockMode.DP));
    }

    [Fact]
    public void Block_pair_with_pair_drop_path_keeps_or_skips_whole_samples()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        using var pair = PlstmVisionBlockPair.Create("0", 8, PlstmBlockMode.PD,
            _ => nn.Linear(8, 8, hasBias: true), pairDropPathRate: 0.5);
        pair.to(float64);
        var x = randn(64, 2, 2, 8, dtype: float64);
        pair.eval();
        var full = pair.forward(x);
        pair.train();
        var y = pair.forward(x);
        // Dropped samples return their input; kept ones x + 2·(full − x).
        for (int b = 0; b < 64; b++)
        {
            bool dropped = (y[b] - x[b]).abs().max().item<double>() == 0.0;
            if (!dropped)
                TensorAssert.AssertClose(y[b], x[b] + 2 * (full[b] - x[b]), $"sample {b}", 1e-9, 1e-12);
        }
    }

    [Theory]
    [InlineData(0.0, true)]                                                      // rate 0 (every config), training
    [InlineData(0.5, false)]                                                     // evaluation
    public void Block_pair_without_an_active_drop_path_is_its_two_blocks(double rate, bool training)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var pair = PlstmVisionBlockPair.Create("0", 8, PlstmBlockMode.PD,
            _ => nn.Linear(8, 8, hasBias: true), pairDropPathRate: rate);
        pair.to(float64);
        pair.train(training);
        var x = randn(4, 2, 3, 8, dtype: float64);
        // The blocks' output itself, not x + (x2 − x), which differs from it by rounding (and cost four full-size passes).
        var expected = pair.Block1.forward(pair.Block0.forward(x));
        Assert.True(pair.forward(x).eq(expected).all().item<bool>(), "the pair is not exactly its two blocks");
    }

    [Fact]
    public void Truncated_normal_init_draws_samples_with_the_requested_std()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        var w = empty(200, 100);
        Initializers.TruncatedNormal(w, 2e-5);
        Assert.InRange(w.std().item<float>(), 1.9e-5, 2.1e-5);
        Assert.InRange(w.mean().item<float>(), -1e-6, 1e-6);
        var cut = empty(200, 100);
        Initializers.TruncatedNormal(cut, 1.0, -0.5, 0.5);
        Assert.True(cut.abs().max().item<float>() <= 0.5f);
        Assert.InRange(cut.std().item<float>(), 0.26, 0.31); // std of N(0,1) cut at ±0.5: 0.2838
    }
}
