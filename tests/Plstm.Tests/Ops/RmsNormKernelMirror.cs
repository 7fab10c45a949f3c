namespace Plstm.Tests.Ops;

/// <summary>
/// The loops of the CUDA RMS norm kernels in C#, as launched, on flat float64 arrays: the blocks' norm with its scale
/// (<c>Kernels/rms_norm_rows.cu</c>: a warp per row, lane l on columns l, l + 32, …; the backward's blocks of 8 warps
/// striding over the rows, per-block column sums added by the host) and the 2D layer's per-head norm backward
/// (<c>Kernels/rms_norm.cu</c>: a warp per row of <c>[B, T, H, W]</c>, clearing the row's q columns of the projection
/// gradient). The indexing the GPU alone runs, checked on the CPU against autograd of the tensor definition.
/// </summary>
internal static class RmsNormKernelMirror
{
    private const int Lanes = 32, BackwardWarps = 8;

    /// <summary>plstm_rms_norm_rows_forward: y = x · r · γ and r per row.</summary>
    public static (double[] Y, double[] Inverse) RowsForward(double[] x, double[] scale, int rows, int width, double eps)
    {
        int cpl = (width + Lanes - 1) / Lanes;
        var y = Enumerable.Repeat(double.NaN, rows * width).ToArray();
        var inverse = Enumerable.Repeat(double.NaN, rows).ToArray();
        for (int row = 0; row < rows; row++)
        {
            double sum = 0;                                                   // warp_sum of the lanes' partial sums
            for (int lane = 0; lane < Lanes; lane++)
                for (int k = 0; k < cpl; k++)
                {
                    int c = lane + Lanes * k;
                    double v = c < width ? x[row * width + c] : 0;
                    sum += v * v;
                }
            double r = 1 / Math.Sqrt(sum / width + eps);
            inverse[row] = r;                                                 // lane 0
            for (int lane = 0; lane < Lanes; lane++)
                for (int k = 0; k < cpl; k++)
                {
                    int c = lane + Lanes * k;
                    if (c < width) y[row * width + c] = x[row * width + c] * r * scale[c];
                }
        }
        return (y, inverse);
    }

    /// <summary>plstm_rms_norm_rows_backward on <paramref name="blocks"/> blocks, then the host's sum of the blocks'
    /// partial column sums: dx and dγ.</summary>
    public static (double[] Dx, double[] DScale) RowsBackward(double[] x, double[] scale, double[] inverse, double[] dy,
        int rows, int width, long blocks)
    {
        int cpl = (width + Lanes - 1) / Lanes;
        var dx = Enumerable.Repeat(double.NaN, rows * width).ToArray();
        var partial = new double[blocks * width];
        for (long block = 0; block < blocks; block++)
        {
            var acc = new double[BackwardWarps, Lanes, cpl];
            for (int warp = 0; warp < BackwardWarps; warp++)
                for (long row = block * BackwardWarps + warp; row < rows; row += blocks * BackwardWarps)
                {
                    double r = inverse[row], dot = 0;
                    var xh = new double[Lanes, cpl];
                    var g = new double[Lanes, cpl];
                    for (int lane = 0; lane < Lanes; lane++)
                        for (int k = 0; k < cpl; k++)
                        {
                            int c = lane + Lanes * k;
                            double d = c < width ? dy[row * width + c] : 0;
                            xh[lane, k] = c < width ? x[row * width + c] * r : 0;
                            g[lane, k] = d * (c < width ? scale[c] : 0);
                            acc[warp, lane, k] += d * xh[lane, k];
                            dot += g[lane, k] * xh[lane, k];
                        }
                    double mean = dot / width;
                    for (int lane = 0; lane < Lanes; lane++)
                        for (int k = 0; k < cpl; k++)
                        {
                            int c = lane + Lanes * k;
                            if (c < width) dx[row * width + c] = r * (g[lane, k] - xh[lane, k] * mean);
                        }
                }
            for (int c = 0; c < width; c++)                                   // the block's threads over the columns
            {
                double total = 0;
                for (int warp = 0; warp < BackwardWarps; warp++) total += acc[warp, c % Lanes, c / Lanes];
                partial[block * width + c] = total;
            }
        }
        var dScale = new double[width];
        for (long block = 0; block < blocks; block++)
            for (int c = 0; c < width; c++) dScale[c] += partial[block * width + c];
        return (dx, dScale);
    }

    /// <summary>plstm_rms_norm_backward: dy = r · (dŷ − ŷ · mean(dŷ ⊙ ŷ)) per row of <c>[B, T, H, W]</c> (rows
    /// (b · T + t) · H + h), and with <paramref name="zero"/> the row's W floats of the q columns at
    /// zero[(row / H) · zstride + (row % H) · W] set to 0.</summary>
    public static double[] HeadsBackward(double[] y, double[] inverse, double[] dyhat, int rows, int width,
        double[]? zero = null, int heads = 1, long zstride = 0)
    {
        var dy = Enumerable.Repeat(double.NaN, rows * width).ToArray();
        for (long row = 0; row < rows; row++)
        {
            double r = inverse[row], dot = 0;
            for (int lane = 0; lane < Lanes; lane++)
                for (int c = lane; c < width; c += Lanes) dot += dyhat[row * width + c] * (y[row * width + c] * r);
            double mean = dot / width;
            for (int lane = 0; lane < Lanes; lane++)
                for (int c = lane; c < width; c += Lanes)
                    dy[row * width + c] = r * (dyhat[row * width + c] - y[row * width + c] * r * mean);
            if (zero is null) continue;
            long q = row / heads * zstride + row % heads * (long)width;
            for (int lane = 0; lane < Lanes; lane++)
                for (int c = lane; c < width; c += Lanes) zero[q + c] = 0;
        }
        return dy;
    }
}
