using Plstm.Ops.TwoD;
using static TorchSharp.torch;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="MaskedAttentionKernel"/> runs on CUDA only (float32, tensor cores); its values are checked on the GPU by
/// <c>plstm selfcheck</c> (against float64 products) and, through the layer, by the selfcheck's float32 layer cases.
/// Here: what it refuses, so that every other device and dtype keeps the batched products (tested to the bit by
/// <see cref="WalkedGateAttentionTests"/>), and that a refused call names the argument.
/// </summary>
public class MaskedAttentionKernelTests
{
    [Theory]
    [InlineData(ScalarType.Float32, 64, 64)]
    [InlineData(ScalarType.Float64, 64, 64)]
    [InlineData(ScalarType.Float32, 8, 8)]
    public void Does_not_run_on_the_cpu(ScalarType dtype, int dk, int dv)
    {
        using var q = zeros(new long[] { 2, 5, dk }, dtype: dtype);
        Assert.False(MaskedAttentionKernel.CanRun(q, 2, dk, dv));
    }

    [Theory]
    [InlineData(384, 64, 64, true)]
    [InlineData(1, 8, 8, true)]
    [InlineData(3, 8, 56, true)]
    [InlineData(65_535, 24, 40, true)]
    [InlineData(0, 64, 64, false)]
    [InlineData(65_536, 64, 64, false)]
    [InlineData(2, 12, 64, false)]
    [InlineData(2, 64, 20, false)]
    [InlineData(2, 72, 64, false)]
    [InlineData(2, 64, 128, false)]
    [InlineData(2, 0, 8, false)]
    public void Takes_the_widths_and_batch_sizes_it_was_built_for(int n, int dk, int dv, bool expected) =>
        Assert.Equal(expected, MaskedAttentionKernel.TakesShape(n, dk, dv));

    [Fact]
    public void Refuses_cpu_operands_naming_q()
    {
        using var q = zeros(2, 5, 8);
        using var k = zeros(2, 5, 8);
        using var v = zeros(2, 5, 8);
        using var gate = zeros(2, 5, 5);
        using var dy = zeros(2, 5, 8);
        var forward = Assert.Throws<ArgumentException>(() => MaskedAttentionKernel.Forward(q, k, v, gate));
        Assert.Equal("q", forward.ParamName);
        var backward = Assert.Throws<ArgumentException>(() => MaskedAttentionKernel.Backward(q, k, v, gate, dy));
        Assert.Equal("q", backward.ParamName);
    }
}
