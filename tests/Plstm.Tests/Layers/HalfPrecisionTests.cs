using Plstm.Layers;
using Plstm.Ops.TwoD;
using Plstm.Tests.Ops;
using Plstm.Tests.Support;

namespace Plstm.Tests.Layers;

/// <summary>
/// Half precision (bfloat16, float16) through the 2D layer and the fused operator: the kernel form mixes in float32 (the
/// walk and the masked attention; Plstm2DLayer and Plstm2DFused say why), the other forms compute in the inputs' dtype.
/// Every form must return the inputs' dtype and agree with the same computation in float64 on the half-rounded inputs and
/// parameters, output and every gradient, within the half-precision bounds of <see cref="Tolerances"/> (several roundings
/// to 8 or 11 significant bits between input and output).
/// </summary>
public sealed class HalfPrecisionTests
{
    public static TheoryData<string, int, int, string> LayerCases() => new()
    {
        { "P", 5, 6, "bfloat16" },
        { "DL", 7, 3, "bfloat16" },
        { "DR", 1, 4, "bfloat16" },
        { "P", 4, 4, "float16" },
        { "DR", 6, 5, "float16" },
    };

    [Theory]
    [MemberData(nameof(LayerCases))]
    public void Half_precision_layer_follows_the_float64_layer_in_every_form(string wiring, int gridX, int gridY, string dtypeName)
    {
        using var scope = NewDisposeScope();
        var dtype = dtypeName == "float16" ? ScalarType.Float16 : ScalarType.BFloat16;
        var mode = wiring == "P" ? Plstm2DMode.P : Plstm2DMode.D;
        var config = LayerTestSupport.SmallConfig(mode, wiring == "DR" ? "R" : "L");
        using var reference = new Plstm2DLayer("layer", config);
        reference.to(float64);
        LayerTestSupport.Randomize(reference, seed: 700 + 10 * gridX + gridY);
        using var low = new Plstm2DLayer("layer", config);
        low.to(dtype);
        using (no_grad())
            foreach (var ((_, r), (_, l)) in reference.named_parameters().Zip(low.named_parameters()))
            {
                l.copy_(r);                                                   // rounded to the half dtype
                r.copy_(l);                                                   // the reference holds the rounded values
            }
        var g = new Generator(13);
        var x = randn(new long[] { 2, gridX, gridY, config.InputDim }, dtype: float64, generator: g).to(dtype);
        var upstream = randn(new long[] { 2, gridX, gridY, config.InputDim }, dtype: float64, generator: g).to(dtype);
        var expected = LayerTestSupport.Differentiate(reference.forward, x.to(float64), upstream.to(float64),
            reference.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList());
        var parameters = low.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();

        // The kernel form also recomputing its gate in backward (the float32 path's other branch).
        foreach (var (form, recompute) in new[] { (Plstm2DForm.Kernel, false), (Plstm2DForm.Kernel, true),
            (Plstm2DForm.RowScan, false), (Plstm2DForm.Auto, false) })
        {
            low.Form = form;
            low.RecomputeInBackward = recompute;
            var actual = LayerTestSupport.Differentiate(low.forward, x, upstream, parameters);
            Assert.Equal(dtype, actual.Y.dtype);
            Assert.Equal(dtype, actual.Dx.dtype);
            var failures = new List<string?>
            {
                TensorAssert.CompareScaled(actual.Y, expected.Y, $"{form}{(recompute ? " recomputing" : "")} y", 0,
                    Tolerances.BFloat16ComputeScale),
                TensorAssert.CompareScaled(actual.Dx, expected.Dx, $"{form} dx", 0, Tolerances.BFloat16ComputeGradScale),
            };
            foreach (var (name, grad) in actual.DParams)
                failures.Add(TensorAssert.CompareScaled(grad, expected.DParams[name],
                    $"{form}{(recompute ? " recomputing" : "")} d{name}", 0, Tolerances.BFloat16ComputeGradScale));
            var real = failures.Where(f => f is not null).ToList();
            if (real.Count > 0) Assert.Fail(string.Join("\n", real));
        }
        Assert.True(expected.Y.abs().max().item<double>() > 0.1);
    }

    [Theory]
    [InlineData(3, 5, true, "bfloat16")]
    [InlineData(4, 4, false, "bfloat16")]
    [InlineData(2, 7, true, "float16")]
    public void Half_precision_kernel_form_operator_follows_float64(int gridX, int gridY, bool pWiring, string dtypeName)
    {
        using var scope = NewDisposeScope();
        var dtype = dtypeName == "float16" ? ScalarType.Float16 : ScalarType.BFloat16;
        // Scalar gates (the kernel form's case); without T0ru a D-mode wiring (one path between two cells).
        var rounded = FusedOperatorTests.ToArray(RandomInputs.Fused(seed: 80 + gridX, B: 2, X: gridX, Y: gridY, DK: 4, DV: 3,
                JDims.Scalar, withRu: pWiring))
            .Select(t => t?.to(dtype).to(float64)).ToArray();
        var expected = Differentiate.Run(rounded,
            a => new[] { Plstm2DFused.Forward(FusedOperatorTests.FromArray(a), form: Plstm2DForm.Hierarchical) });
        var actual = Differentiate.Run(rounded.Select(t => t?.to(dtype)).ToArray(),
            a => new[] { Plstm2DFused.Forward(FusedOperatorTests.FromArray(a), form: Plstm2DForm.Kernel) });
        Assert.Equal(dtype, actual.Outputs[0].dtype);
        var failures = new List<string?>
        {
            TensorAssert.CompareScaled(actual.Outputs[0], expected.Outputs[0], "Y", 0, Tolerances.BFloat16ComputeScale),
        };
        for (int i = 0; i < rounded.Length; i++)
            if (rounded[i] is not null)
            {
                Assert.Equal(dtype, actual.Gradients[i]!.dtype);
                failures.Add(TensorAssert.CompareScaled(actual.Gradients[i]!, expected.Gradients[i]!,
                    $"d{FusedOperatorTests.InputNames[i]}", 0, Tolerances.BFloat16ComputeGradScale));
            }
        var real = failures.Where(f => f is not null).ToList();
        if (real.Count > 0) Assert.Fail(string.Join("\n", real));
    }

    /// <summary>The half-precision path's casts (the projection output up, the heads back) live in the layer's dispose
    /// scope: repeated steps leave the live tensor count where it was.</summary>
    [Theory]
    [InlineData("P")]
    [InlineData("DR")]
    public void Repeated_half_precision_layer_steps_leave_no_tensors_behind(string wiring)
    {
        var mode = wiring == "P" ? Plstm2DMode.P : Plstm2DMode.D;
        using var layer = new Plstm2DLayer("layer", LayerTestSupport.SmallConfig(mode, "R"));
        layer.to(ScalarType.BFloat16);
        using var generator = new Generator(14);
        using var x = randn(new long[] { 2, 3, 4, 16 }, generator: generator).to(ScalarType.BFloat16).requires_grad_(true);
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step()
        {
            using var scope = NewDisposeScope();
            layer.forward(x).to(float32).sum().backward();
        }
        Step();                                                                  // allocates the gradients once
        long before = Live();
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(before, Live());
    }
}
