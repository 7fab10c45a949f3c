using Plstm.Ops.OneD;
using Plstm.Ops.TwoD;

namespace Plstm.Tests.Ops;

public class SmokeTests
{
    [Fact]
    public void Hierarchical2DMatchesNaive()
    {
        manual_seed(1);
        long B = 2, X = 7, Y = 5, DK = 3, DV = 2, JT = 2, JK = 2, JV = 1, JQ = 2, JO = 1;
        Tensor R(params long[] s) => randn(s, dtype: float64) * 0.5;
        var inp = new Plstm2DInputs(R(B, X, Y, DK, JQ), R(B, X, Y, DK, JK), R(B, X, Y, DV, JV),
            R(B, X, Y, JT, JK, JV), R(B, X, Y, JT, JK, JV), R(B, X, Y, JT, JT), R(B, X, Y, JT, JT), R(B, X, Y, JT, JT), R(B, X, Y, JT, JT),
            R(B, X, Y, JO, JQ, JT), R(B, X, Y, JO, JQ, JT), R(B, X, Y, JO, JQ, JK, JV), R(B, Y, DK, DV, JT), R(B, X, DK, DV, JT));
        var n = Plstm2DNaive.Forward(inp);
        for (int lv = 0; lv <= 3; lv++)
        {
            var h = Plstm2DHierarchical.Forward(inp, lv);
            Assert.True((h.Y - n.Y).abs().max().item<double>() < 1e-10, $"Y lv {lv}: {(h.Y - n.Y).abs().max().item<double>()}");
            Assert.True((h.FinalRight - n.FinalRight).abs().max().item<double>() < 1e-10, $"R lv {lv}");
            Assert.True((h.FinalBottom - n.FinalBottom).abs().max().item<double>() < 1e-10, $"D lv {lv}");
        }
    }

    [Fact]
    public void Chunked1DMatchesNaive()
    {
        manual_seed(2);
        long B = 2, L = 13, DK = 3, DV = 2, JT = 2, JK = 2, JV = 1, JQ = 2, JO = 2;
        Tensor R(params long[] s) => randn(s, dtype: float64) * 0.5;
        var inp = new Plstm1DInputs(R(B, L, DK, JQ), R(B, L, DK, JK), R(B, L, DV, JV), R(B, L, JT, JK, JV), R(B, L, JT, JT),
            R(B, L, JO, JQ, JT), R(B, L, JO, JQ, JK, JV), R(B, DK, DV, JT));
        var n = Plstm1DNaive.Forward(inp);
        for (int lv = 0; lv <= 5; lv++)
        {
            var h = Plstm1DChunked.Forward(inp, lv);
            Assert.True((h.Y - n.Y).abs().max().item<double>() < 1e-10, $"Y lv {lv}");
            Assert.True((h.CLast - n.CLast).abs().max().item<double>() < 1e-10, $"C lv {lv}");
        }
    }
}
