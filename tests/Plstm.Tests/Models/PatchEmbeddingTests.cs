using Plstm.Models;
using Plstm.Tests.Support;

namespace Plstm.Tests.Models;

/// <summary>
/// <see cref="PatchEmbedding"/> computes its projection (kernel = stride) as a matrix product of patch rows: it must equal
/// the convolution of the same weight (its definition, and what the reference runs) — values and the gradients of the
/// weight, the bias and the images, with and without a stem, channels-last and channels-first, non-square images.
/// </summary>
public class PatchEmbeddingTests
{
    [Theory]
    [InlineData(8, 0, false, 16, 24)]
    [InlineData(4, 0, true, 12, 8)]
    [InlineData(8, 6, false, 16, 32)]
    [InlineData(2, 5, true, 6, 10)]
    public void Projection_equals_the_strided_convolution(int patch, int stem, bool channelsFirst, int height, int width)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(31);
        using var embed = new PatchEmbedding("patch_embed", channels: 3, dim: 7, patchSize: patch, channelsFirst, stem);
        embed.to(float64);
        using (no_grad())
            foreach (var p in embed.parameters()) p.copy_(randn(p.shape, generator: generator, dtype: float64));
        var shape = channelsFirst ? new long[] { 2, 3, height, width } : new long[] { 2, height, width, 3 };
        var images = randn(shape, generator: generator, dtype: float64);
        var weights = randn(new long[] { 2, height / patch, width / patch, 7 }, generator: generator, dtype: float64);

        var x1 = images.clone().requires_grad_(true);
        var y = embed.forward(x1);
        (y * weights).sum().backward();
        var grads = embed.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        embed.zero_grad();

        // The definition: the stem (if any), then the convolution with kernel = stride, output moved to [B, X, Y, D].
        var x2 = images.clone().requires_grad_(true);
        var nchw = channelsFirst ? x2 : x2.permute(0, 3, 1, 2);
        var modules = embed.named_children().ToDictionary(c => c.name, c => c.module);
        var features = modules.TryGetValue("stem", out var s) ? ((nn.Module<Tensor, Tensor>)s).forward(nchw) : nchw;
        var proj = (TorchSharp.Modules.Conv2d)modules["proj"];
        var reference = nn.functional.conv2d(features, proj.weight!, proj.bias, strides: proj.stride).permute(0, 2, 3, 1);
        (reference * weights).sum().backward();

        TensorAssert.AssertClose(y, reference, "output", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(x1.grad!, x2.grad!, "d images", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        foreach (var (name, p) in embed.named_parameters())
            TensorAssert.AssertClose(grads[name], p.grad!, "d " + name, Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void The_stem_gets_channels_last_memory_whatever_the_input_layout()
    {
        using var scope = NewDisposeScope();
        var nchw = randn(2, 3, 4, 5, dtype: ScalarType.Float64);                       // [B, C, H, W] contiguous
        long[] channelsLast = [60, 1, 15, 3];                                         // NHWC strides of [2, 3, 4, 5]
        // The trainer's input: a [B, H, W, C] view of a [B, C, H, W] batch (was fed to the stem as NCHW memory).
        var fromView = PatchEmbedding.StemInput(nchw.permute(0, 2, 3, 1), channelsFirst: false);
        var fromFirst = PatchEmbedding.StemInput(nchw, channelsFirst: true);
        var nhwc = nchw.permute(0, 2, 3, 1).contiguous();                               // [B, H, W, C] contiguous
        var fromContiguous = PatchEmbedding.StemInput(nhwc, channelsFirst: false);
        foreach (var t in new[] { fromView, fromFirst, fromContiguous })
        {
            Assert.Equal([2L, 3, 4, 5], t.shape);
            Assert.Equal(channelsLast, t.stride());
            Assert.True(t.allclose(nchw, rtol: 0, atol: 0));
        }
        // Already channels-last: no copy (a change of the input shows through).
        nhwc.add_(1);
        Assert.True(fromContiguous.allclose(nchw + 1, rtol: 0, atol: 0));
    }
}
