using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

/// <summary>Compares two <see cref="Differentiate.Result"/>s output by output and gradient by gradient.</summary>
public static class FormComparison
{
    public static void AssertSame(Differentiate.Result actual, Differentiate.Result expected, string[] outputNames,
        string[] inputNames, bool float32 = false)
    {
        for (int i = 0; i < expected.Outputs.Length; i++)
            Check(actual.Outputs[i], expected.Outputs[i], outputNames[i], float32);
        for (int i = 0; i < expected.Gradients.Length; i++)
        {
            var e = expected.Gradients[i];
            var a = actual.Gradients[i];
            if (e is null && a is null) continue;
            // A form that never reads an input (e.g. marks of all-zero entering states) leaves its gradient
            // undefined; mathematically it is zero, so compare against zeros.
            Check(a ?? zeros_like(e!), e ?? zeros_like(a!), "d" + inputNames[i], float32);
        }
    }

    private static void Check(Tensor actual, Tensor expected, string what, bool float32)
    {
        if (float32)
            TensorAssert.AssertCloseFloat32(actual.to(float64), expected.to(float64), what);
        else
            TensorAssert.AssertClose(actual, expected, what, Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }
}
