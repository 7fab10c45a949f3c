namespace Plstm.Tests.Ops;

/// <summary>
/// The loops of the CUDA kernel <c>src/Plstm/Ops/TwoD/Kernels/fused_gate.cu</c> written again in C# over plain arrays,
/// thread by thread (one source cell at a time), with the same layout ([N, O, 8, cells] gates, [N, cells, cells] gate)
/// and the same order of operations; the per-warp sums are plain sums here, and every source walks the whole grid (the
/// kernel starts each warp at the first scan line holding one of its sources: the lines before carry zero weight; its
/// first orientation writes 𝒢 rather than adding to it, and it loads lines or chunks of cells before walking them,
/// which changes no value). The GPU cannot run in the test suite, so
/// this mirror is what checks the kernel's algorithm — above all its hand-derived adjoint walk — against autograd on
/// the CPU (FusedGateKernelTests); `plstm selfcheck` checks the compiled kernel on a GPU. Keep the two in step.
/// </summary>
public static class FusedGateKernelMirror
{
    private static int CellOf(int o, int xi, int yi, int gx, int gy)
    {
        int x = (o & 1) != 0 ? gx - 1 - xi : xi;
        int y = (o & 2) != 0 ? gy - 1 - yi : yi;
        return x * gy + y;
    }

    /// <summary>advance: one cell of the forward walk (the weights leaving on its r- and d-edge).</summary>
    private static (double Wr, double Wd) Advance(double[] gates, int g, int cells, int c, int m, double L, double U)
    {
        double src = c == m ? 1 : 0;
        return (gates[g + 2 * cells + c] * L + gates[g + 5 * cells + c] * U + src * gates[g + c],
            gates[g + 4 * cells + c] * L + gates[g + 3 * cells + c] * U + src * gates[g + cells + c]);
    }

    /// <summary>plstm_fused_gate_forward for every (batch entry, source): scale · Σ_o 𝒢_o.</summary>
    public static double[] Forward(double[] gates, int n, int orientations, int gx, int gy, double scale = 1.0)
    {
        int cells = gx * gy;
        var output = new double[(long)n * cells * cells];
        for (int b = 0; b < n; b++)
            for (int m = 0; m < cells; m++)
                for (int o = 0; o < orientations; o++)
                {
                    int g = (b * orientations + o) * 8 * cells;
                    var wr = new double[gy];
                    for (int xi = 0; xi < gx; xi++)
                    {
                        double wd = 0;
                        for (int yi = 0; yi < gy; yi++)
                        {
                            int c = CellOf(o, xi, yi, gx, gy);
                            double L = wr[yi], U = wd;
                            output[((long)b * cells + c) * cells + m] += scale * (gates[g + 6 * cells + c] * L + gates[g + 7 * cells + c] * U);
                            (wr[yi], wd) = Advance(gates, g, cells, c, m, L, U);
                        }
                    }
                }
        return output;
    }

    /// <summary>plstm_fused_gate_backward: the gradient of Σ dOut ⊙ gate (gate = scale · Σ_o 𝒢_o) with respect to the
    /// stacked gates.</summary>
    public static double[] Backward(double[] gates, double[] dOut, int n, int orientations, int gx, int gy, double scale = 1.0)
    {
        int cells = gx * gy;
        var dGates = new double[gates.Length];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < orientations; o++)
            {
                int g = (b * orientations + o) * 8 * cells;
                var acc = new double[6 * cells];                       // the block's shared sums, slots 2..7
                for (int m = 0; m < cells; m++)
                {
                    var Ls = new double[cells];
                    var Us = new double[cells];
                    var wr = new double[gy];
                    for (int xi = 0; xi < gx; xi++)
                    {
                        double wd = 0;
                        for (int yi = 0; yi < gy; yi++)
                        {
                            int c = CellOf(o, xi, yi, gx, gy);
                            double L = wr[yi], U = wd;
                            Ls[xi * gy + yi] = L;
                            Us[xi * gy + yi] = U;
                            (wr[yi], wd) = Advance(gates, g, cells, c, m, L, U);
                        }
                    }
                    var ar = new double[gy];
                    for (int xi = gx - 1; xi >= 0; xi--)
                    {
                        double ad = 0;
                        for (int yi = gy - 1; yi >= 0; yi--)
                        {
                            int c = CellOf(o, xi, yi, gx, gy);
                            double L = Ls[xi * gy + yi], U = Us[xi * gy + yi];
                            double d = scale * dOut[((long)b * cells + c) * cells + m];
                            double aR = ar[yi], aD = ad;
                            acc[0 * cells + c] += aR * L;
                            acc[1 * cells + c] += aD * U;
                            acc[2 * cells + c] += aD * L;
                            acc[3 * cells + c] += aR * U;
                            acc[4 * cells + c] += d * L;
                            acc[5 * cells + c] += d * U;
                            if (c == m)
                            {
                                dGates[g + c] = aR;
                                dGates[g + cells + c] = aD;
                            }
                            ar[yi] = d * gates[g + 6 * cells + c] + aR * gates[g + 2 * cells + c] + aD * gates[g + 4 * cells + c];
                            ad = d * gates[g + 7 * cells + c] + aR * gates[g + 5 * cells + c] + aD * gates[g + 3 * cells + c];
                        }
                    }
                }
                for (int i = 0; i < 6 * cells; i++)
                    dGates[g + 2 * cells + i] += acc[i];
            }
        return dGates;
    }
}
