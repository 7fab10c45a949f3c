using Plstm.Ops.TwoD;

namespace Plstm.Tests.Ops;

/// <summary>
/// The loops of the CUDA gate activation kernels (<c>Kernels/gate_activation.cu</c>) in C#, as launched — the forward one
/// thread per item; the projecting forward and the backward block by block and thread by thread (one block per tile of cells of a batch entry, the
/// tile's pre-activation rows staged in a padded shared array, items with cells fastest, a thread striding over them by
/// the block size) — on flat arrays: the indexing that the GPU alone would run, checked on the CPU against the tensor
/// definition.
/// </summary>
internal static class GateActivationKernelMirror
{
    private const int Block = 128;                                          // the backward's BackwardBlock

    private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>The rows of cells c0 … c0 + n − 1 of batch entry b from <paramref name="pre"/> (row stride
    /// <paramref name="stride"/>, first gate column <paramref name="offset"/>), padded by one value: stage_rows.</summary>
    private static double[] Stage(double[] pre, long stride, long offset, int b, int cells, int c0, int n, int kg)
    {
        var rows = new double[n * (kg + 1)];
        for (int start = 0; start < Block; start++)                        // thread threadIdx.x = start
            for (int i = start; i < n * kg; i += Block)
            {
                int r = i / kg, col = i - r * kg;
                rows[r * (kg + 1) + col] = pre[((long)b * cells + c0 + r) * stride + offset + col];
            }
        return rows;
    }

    /// <summary>plstm_gate_activation_forward, one thread per item (b, h, o, c), c fastest: the stacked gates
    /// [B·H, 4, 8, cells] from pre-activations at column <paramref name="offset"/> of rows <paramref name="stride"/>
    /// apart.</summary>
    public static double[] Forward(double[] pre, long stride, long offset, int B, int H, int cells, GateActivationMode mode,
        double factor)
    {
        int G = 4 * H;
        var gates = new double[(long)B * H * 4 * 8 * cells];
        for (long i = 0; i < (long)B * H * 4 * cells; i++)
        {
            int c = (int)(i % cells), o = (int)(i / cells % 4), h = (int)(i / cells / 4 % H), b = (int)(i / cells / 4 / H);
            long row = ((long)b * cells + c) * stride + offset + 4 * h + o;
            long out0 = (((long)(b * H + h) * 4 + o) * 8) * cells + c;
            var g = Activate(pre, row, G, mode, factor);
            for (int p = 0; p < 8; p++) gates[out0 + (long)p * cells] = g[p];
        }
        return gates;
    }

    /// <summary>plstm_gate_activation_project (8 warps of 32 lanes per block, one block per tile of ≤ 32 cells of a batch
    /// entry): the gate pre-activations x·wᵀ + b, each gate column n reading its own D/(4H) channels of the
    /// <paramref name="x"/> rows <c>[B·cells, D]</c> (w <c>[K·4H, D]</c>, read only in those blocks), kept as
    /// <c>[B·cells, K·4H]</c>, and the stacked gates from them — phase by phase between the kernel's barriers, each phase
    /// thread by thread with the kernel's loops and staged arrays.</summary>
    public static (double[] Gates, double[] Keep) Project(double[] x, int D, double[] w, double[] bias, int B, int H, int cells,
        GateActivationMode mode, double factor, int tile)
    {
        const int Threads = 256, LanesPerWarp = 32;
        int kinds = GateActivation.Kinds(mode), G = 4 * H, kg = kinds * G, sub = D / G, warps = Threads / LanesPerWarp;
        var gates = new double[(long)B * H * 4 * 8 * cells];
        var keep = new double[(long)B * cells * kg];
        for (int b = 0; b < B; b++)
            for (int block = 0; block * tile < cells; block++)
            {
                int c0 = block * tile, n = Math.Min(tile, cells - c0);
                var xs = new double[tile * (D + 1)];
                var ws = new double[kg * (sub + 1)];
                var bs = new double[kg];
                var rows = new double[tile * (kg + 1)];
                long xb = ((long)b * cells + c0) * D;
                for (int warp = 0; warp < warps; warp++)
                    for (int lane = 0; lane < LanesPerWarp; lane++)
                    {
                        for (int r = warp; r < n; r += warps)
                            for (int c = lane; c < D; c += 32) xs[r * (D + 1) + c] = x[xb + (long)r * D + c];
                        for (int col = warp; col < kg; col += warps)
                        {
                            long wr = (long)col * D + col % G * sub;
                            for (int j = lane; j < sub; j += 32) ws[col * (sub + 1) + j] = w[wr + j];
                            if (lane == 0) bs[col] = bias[col];
                        }
                    }
                for (int warp = 0; warp < warps; warp++)                       // after the first barrier
                    for (int lane = 0; lane < n; lane++)
                        for (int col = warp; col < kg; col += warps)
                        {
                            int xc = lane * (D + 1) + col % G * sub, wc = col * (sub + 1);
                            double acc = bs[col];
                            for (int j = 0; j < sub; j++) acc += ws[wc + j] * xs[xc + j];
                            rows[lane * (kg + 1) + col] = acc;
                        }
                long kb = ((long)b * cells + c0) * kg;                            // after the second barrier
                for (int warp = 0; warp < warps; warp++)
                    for (int lane = 0; lane < LanesPerWarp; lane++)
                    {
                        for (int r = warp; r < n; r += warps)
                            for (int col = lane; col < kg; col += 32) keep[kb + (long)r * kg + col] = rows[r * (kg + 1) + col];
                        if (lane >= n) continue;
                        for (int ho = warp; ho < G; ho += warps)
                        {
                            int h = ho >> 2, o = ho & 3;
                            var g = Activate(rows, lane * (kg + 1) + ho, G, mode, factor);
                            long out0 = (((long)(b * H + h) * 4 + o) * 8) * cells + c0 + lane;
                            for (int p = 0; p < 8; p++) gates[out0 + (long)p * cells] = g[p];
                        }
                    }
            }
        return (gates, keep);
    }

    /// <summary>The kernels' activate(): the eight gates from the K pre-activations at <paramref name="row"/>,
    /// <paramref name="row"/> + G, ….</summary>
    private static double[] Activate(double[] pre, long row, int G, GateActivationMode mode, double factor)
    {
        if (mode == GateActivationMode.P)
        {
            double w = Logistic(pre[row]), s = Logistic(pre[row + G]), m = Logistic(pre[row + 2 * G]),
                t = Math.Tanh(factor * pre[row + 3 * G]);
            return [w * s, 1 - w * s, w * t, 1 - w * t, 1 - w * t, w * t, m, m];
        }
        double turn = Math.Tanh(factor * pre[row + 6 * G]);
        return [Logistic(pre[row]), Logistic(pre[row + G]), Math.Tanh(factor * pre[row + 4 * G]),
            Math.Tanh(factor * pre[row + 5 * G]), mode == GateActivationMode.DRight ? turn : 0,
            mode == GateActivationMode.DLeft ? turn : 0, Logistic(pre[row + 2 * G]), Logistic(pre[row + 3 * G])];
    }

    /// <summary>plstm_gate_activation_backward: the pre-activations' gradient written at column <paramref name="offset"/>
    /// of rows <paramref name="stride"/> apart in an array shaped as <paramref name="pre"/> (other entries zero), from the
    /// stacked gates' gradient.</summary>
    public static double[] Backward(double[] pre, long stride, long offset, double[] dGates, int B, int H, int cells,
        GateActivationMode mode, double factor, int tile)
    {
        int kinds = GateActivation.Kinds(mode), G = 4 * H, kg = kinds * G;
        var dPre = new double[pre.Length];
        for (int b = 0; b < B; b++)
            for (int block = 0; block * tile < cells; block++)
            {
                int c0 = block * tile, n = Math.Min(tile, cells - c0);
                var rows = Stage(pre, stride, offset, b, cells, c0, n, kg);
                for (int thread = 0; thread < Block; thread++)
                    for (int j = thread; j < G * n; j += Block)
                    {
                        int ho = j / n, cl = j - ho * n, h = ho >> 2, o = ho & 3;
                        int row = cl * (kg + 1) + ho;
                        long d0 = (((long)(b * H + h) * 4 + o) * 8) * cells + c0 + cl;
                        var g = new double[8];
                        for (int p = 0; p < 8; p++) g[p] = dGates[d0 + (long)p * cells];
                        if (mode == GateActivationMode.P)
                        {
                            double w = Logistic(rows[row]), s = Logistic(rows[row + G]), m = Logistic(rows[row + 2 * G]),
                                t = Math.Tanh(factor * rows[row + 3 * G]);
                            double a = g[0] - g[1], e = g[2] + g[5] - g[3] - g[4];
                            rows[row] = (a * s + e * t) * w * (1 - w);
                            rows[row + G] = a * w * s * (1 - s);
                            rows[row + 2 * G] = (g[6] + g[7]) * m * (1 - m);
                            rows[row + 3 * G] = e * w * factor * (1 - t * t);
                        }
                        else
                        {
                            double sr = Logistic(rows[row]), sd = Logistic(rows[row + G]), ml = Logistic(rows[row + 2 * G]),
                                mu = Logistic(rows[row + 3 * G]), trl = Math.Tanh(factor * rows[row + 4 * G]),
                                tdu = Math.Tanh(factor * rows[row + 5 * G]), turn = Math.Tanh(factor * rows[row + 6 * G]);
                            rows[row] = g[0] * sr * (1 - sr);
                            rows[row + G] = g[1] * sd * (1 - sd);
                            rows[row + 2 * G] = g[6] * ml * (1 - ml);
                            rows[row + 3 * G] = g[7] * mu * (1 - mu);
                            rows[row + 4 * G] = g[2] * factor * (1 - trl * trl);
                            rows[row + 5 * G] = g[3] * factor * (1 - tdu * tdu);
                            rows[row + 6 * G] = (mode == GateActivationMode.DLeft ? g[5] : g[4]) * factor * (1 - turn * turn);
                        }
                    }
                for (int thread = 0; thread < Block; thread++)
                    for (int i = thread; i < n * kg; i += Block)
                    {
                        int r = i / kg, col = i - r * kg;
                        dPre[((long)b * cells + c0 + r) * stride + offset + col] = rows[r * (kg + 1) + col];
                    }
            }
        return dPre;
    }
}
