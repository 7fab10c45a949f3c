using Plstm.Ops.TwoD;

namespace Plstm.Tests.Infrastructure;

public class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_loads_and_computes()
    {
        // Fails at the first torch call if libLibTorchSharp.so cannot be loaded (e.g. the GLIBCXX patch is missing).
        using var scope = NewDisposeScope();
        var a = tensor(new double[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        var product = a.matmul(a);
        Assert.Equal(new double[] { 7, 10, 15, 22 }, product.data<double>().ToArray());
        var x = tensor(3.0, requires_grad: true);
        (x * x).backward();
        Assert.Equal(6.0, x.grad!.item<double>());
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_many_operator_calls()
    {
        var inputs = Ops.RandomInputs.TwoD(1, B: 1, X: 5, Y: 6, DK: 2, DV: 2, Ops.JDims.Scalar);
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step()
        {
            using var scope = NewDisposeScope();
            var leaf = inputs.K.detach().requires_grad_(true);
            var y = Plstm2DHierarchical.Forward(inputs with { K = leaf }, 1).Y;
            y.sum().backward();
        }
        Step();
        long before = Live();
        for (int i = 0; i < 20; i++) Step();
        Assert.Equal(before, Live());
    }
}
