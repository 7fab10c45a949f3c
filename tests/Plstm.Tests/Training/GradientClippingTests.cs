using Plstm.Training;
using TorchSharp.Modules;

namespace Plstm.Tests.Training;

public class GradientClippingTests
{
    private static Parameter WithGrad(float[] grad)
    {
        var p = new Parameter(zeros(grad.Length));
        p.grad = tensor(grad);
        return p;
    }

    private static float[] Grad(Parameter p)
    {
        using var g = p.grad!;
        return g.data<float>().ToArray();
    }

    [Fact]
    public void Returns_the_global_norm_and_scales_to_the_maximum()
    {
        var a = WithGrad([3f, 0f]);
        var b = WithGrad([0f, 4f, 0f]);
        var frozen = new Parameter(zeros(2)); // no gradient: ignored
        double norm = GradientClipping.ClipByGlobalNorm([a, b, frozen], maxNorm: 1.0);

        Assert.Equal(5.0, norm, 6);
        float scale = (float)(1.0 / (5.0 + 1e-6));
        Assert.Equal(new[] { 3f * scale, 0f }, Grad(a));
        Assert.Equal(new[] { 0f, 4f * scale, 0f }, Grad(b));
        double after = Math.Sqrt(Grad(a).Concat(Grad(b)).Sum(v => (double)v * v));
        Assert.Equal(1.0, after, 5);
        Assert.Null(frozen.grad);
    }

    [Fact]
    public void Leaves_small_gradients_alone()
    {
        var a = WithGrad([0.3f, 0.4f]);
        Assert.Equal(0.5, GradientClipping.ClipByGlobalNorm([a], 1.0), 6);
        Assert.Equal(new[] { 0.3f, 0.4f }, Grad(a));
    }

    [Fact]
    public void Zero_max_norm_only_measures()
    {
        var a = WithGrad([30f, 40f]);
        Assert.Equal(50.0, GradientClipping.ClipByGlobalNorm([a], 0.0), 4);
        Assert.Equal(new[] { 30f, 40f }, Grad(a));
    }

    [Fact]
    public void No_gradients_give_norm_zero()
    {
        Assert.Equal(0.0, GradientClipping.ClipByGlobalNorm([new Parameter(zeros(3))], 1.0));
    }
}
