using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Plstm.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The CPU twin of <see cref="FusedGateKernel"/>: Σ_o 𝒢_o (without D0) of the 2D operator with scalar gates from the same
/// walk (README §"Native kernel", §"CPU walk"), written in C# with SIMD vectors whose lanes are the source cells — the
/// CUDA kernel's threads. One walk per (batch entry, orientation) and a hand-written adjoint walk for backward, instead
/// of the row scan's hundreds of small tensor operations (each ~2 µs of dispatch on the CPU, and most of a small grid's
/// time).
/// </summary>
/// <remarks>
/// Layout as the CUDA kernel: gates <c>[N, O, 8, X, Y]</c> (S0r, S0d, T0rl, T0du, T0dl, T0ru, M0l, M0u; absent turns as
/// zeros; orientation o reverses x when o &amp; 1, y when o &amp; 2), gate <c>[N, cells (target), cells (source)]</c>,
/// cells x-major. float32 or float64 CPU tensors. Sums run in a fixed order (no atomics), so results repeat exactly;
/// batch entries are spread over libtorch's intra-op thread count. Per scan line only the sources that can reach it are
/// walked (the lines before it in scan order: flow is monotone), about half the lanes. Backward keeps the weights
/// arriving at every cell for one (entry, orientation) at a time: 2 · cells² values per worker.
/// Must equal <see cref="Plstm2DFused.SummedRowScanGate"/> and its autograd gradients (tests).
/// </remarks>
public sealed class FusedGateCpuKernel : GateWalkFunction<FusedGateCpuKernel>
{
    /// <summary>Largest grid (cells) taken: the output alone is cells² per batch entry, and backward keeps 2 · cells²
    /// per worker thread.</summary>
    public const long MaxCells = 64 * 64;

    /// <inheritdoc />
    public override string Name => nameof(FusedGateCpuKernel);

    /// <summary>Whether the walk runs for stacked gates like <paramref name="gates"/>: a CPU float32/float64 tensor
    /// <c>[N, O, 8, X, Y]</c> with 1 ≤ O ≤ 4 (<see cref="FusedGateKernel.TakesOrientations"/>) and at most
    /// <see cref="MaxCells"/> cells.</summary>
    public static bool CanRun(Tensor gates)
    {
        ArgumentNullException.ThrowIfNull(gates);
        if (gates.device_type != DeviceType.CPU) return false;
        var shape = gates.shape;
        return shape.Length == 5 && FusedGateKernel.TakesOrientations(shape[1])
            && shape[2] == FusedGateKernel.GatesPerOrientation && CanRun(gates.dtype, shape[3], shape[4]);
    }

    /// <summary>Whether the walk runs for stacked CPU gates of <paramref name="dtype"/> on an X × Y grid (the test of
    /// <see cref="CanRun(Tensor)"/> before the gates exist).</summary>
    internal static bool CanRun(ScalarType dtype, long x, long y) =>
        (dtype == ScalarType.Float32 || dtype == ScalarType.Float64) && x * y <= MaxCells;

    /// <summary>Σ_o 𝒢_o without D0, <c>[N, cells, cells]</c> (x-major cells), from stacked gates <c>[N, O, 8, X, Y]</c>
    /// in original cell coordinates; differentiable with respect to the gates.</summary>
    /// <exception cref="ArgumentException">Gates the walk cannot take (see <see cref="CanRun(Tensor)"/>).</exception>
    public static Tensor Gate(Tensor gates) => Gate(gates, null, 1.0);

    /// <summary><c>scale · (Σ_o 𝒢_o + diag(direct))</c>, <c>[N, cells, cells]</c>: the gate of <see cref="Gate(Tensor)"/>
    /// with the direct gate D0 (<c>[N, cells]</c>, or null) on its diagonal and the operator's scale folded in, so that
    /// <c>(Q Kᵀ ⊙ gate) V</c> is the whole operator output. Differentiable with respect to the gates and the direct gate.</summary>
    /// <exception cref="ArgumentException">Gates the walk cannot take (see <see cref="CanRun(Tensor)"/>), or a direct gate of
    /// another shape, dtype or device.</exception>
    public static Tensor Gate(Tensor gates, Tensor? direct, double scale)
    {
        if (!CanRun(gates))
            throw new ArgumentException("gates must be a CPU float32/float64 tensor [N, O, 8, X, Y] with 1 ≤ O ≤ 4 and X·Y ≤ "
                + $"{MaxCells}, got {gates.device_type} {gates.dtype} [{string.Join(", ", gates.shape)}]", nameof(gates));
        CheckDirect(gates, direct);
        return Run(gates, direct, scale);
    }

    /// <inheritdoc />
    protected override Tensor Walk(Tensor gates, double scale)
    {
        var shape = new Shape(gates);
        var output = zeros(new[] { shape.N, shape.Cells, shape.Cells }, gates.dtype);       // the walk adds into it
        if (gates.dtype == ScalarType.Float64) Walks<double>.Forward(gates, output, shape, scale);
        else Walks<float>.Forward(gates, output, shape, scale);
        return output;
    }

    /// <inheritdoc />
    protected override Tensor Adjoint(Tensor gates, Tensor dGate, double scale)
    {
        var dGates = empty_like(gates);                                                       // every value is written
        var shape = new Shape(gates);
        if (gates.dtype == ScalarType.Float64) Walks<double>.Backward(gates, dGate, dGates, shape, scale);
        else Walks<float>.Backward(gates, dGate, dGates, shape, scale);
        return dGates;
    }

    /// <summary>Sizes of a stacked gate tensor.</summary>
    private readonly struct Shape
    {
        public Shape(Tensor gates)
        {
            N = gates.shape[0];
            O = (int)gates.shape[1];
            GX = (int)gates.shape[3];
            GY = (int)gates.shape[4];
        }

        public long N { get; }
        public int O { get; }
        public int GX { get; }
        public int GY { get; }
        public int Cells => GX * GY;

        /// <summary>Original cell of scan position (xi, yi) in orientation o.</summary>
        public int CellOf(int o, int xi, int yi) =>
            ((o & 1) != 0 ? GX - 1 - xi : xi) * GY + ((o & 2) != 0 ? GY - 1 - yi : yi);

        /// <summary>The sources that can reach scan line xi of orientation o: the x-lines up to it in scan order,
        /// [lo, hi) in cell numbering.</summary>
        public (int Lo, int Hi) Sources(int o, int xi)
        {
            if ((o & 1) == 0) return (0, (xi + 1) * GY);
            return ((GX - 1 - xi) * GY, Cells);
        }
    }

    /// <summary>Runs <paramref name="body"/> for 0 … count − 1 on up to libtorch's intra-op thread count, each worker with
    /// its own scratch from <paramref name="scratch"/>.</summary>
    private static void Spread<TScratch>(long count, Func<TScratch> scratch, Action<long, TScratch> body, Action<TScratch> release)
    {
        int threads = (int)Math.Min(count, Math.Max(1, get_num_threads()));
        if (threads <= 1)
        {
            var s = scratch();
            try
            {
                for (long i = 0; i < count; i++) body(i, s);
            }
            finally { release(s); }
            return;
        }
        Parallel.For(0L, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, scratch,
            (i, _, s) => { body(i, s); return s; }, release);
    }

    /// <summary>The walks for one element type; lanes of <see cref="Vector{T}"/> are source cells.</summary>
    private static unsafe class Walks<T> where T : unmanaged, INumber<T>
    {
        private static readonly int Width = Vector<T>.Count;

        /// <summary>gate[b] = scale · Σ_o walk of orientation o (output zero on entry).</summary>
        public static void Forward(Tensor gates, Tensor output, Shape shape, double scale)
        {
            T s = T.CreateChecked(scale);
            T* g0 = (T*)TensorData.Pointer(gates);
            T* out0 = (T*)TensorData.Pointer(output);
            int cells = shape.Cells, gy = shape.GY;
            Spread(shape.N, () => new T[(gy + 1) * cells], (b, wr) =>
            {
                fixed (T* w = wr)
                {
                    T* outB = out0 + b * cells * cells;
                    for (int o = 0; o < shape.O; o++)
                        Walk(g0 + (b * shape.O + o) * 8 * cells, outB, null, null, w, o, shape, s);
                }
            }, _ => { });
        }

        /// <summary>dgates[b, o] from the adjoint walk of (b, o) (every value written); dOutput is the gradient of
        /// scale · Σ_o 𝒢_o.</summary>
        public static void Backward(Tensor gates, Tensor dOutput, Tensor dGates, Shape shape, double scale)
        {
            T sc = T.CreateChecked(scale);
            T* g0 = (T*)TensorData.Pointer(gates);
            T* d0 = (T*)TensorData.Pointer(dOutput);
            T* dg0 = (T*)TensorData.Pointer(dGates);
            int cells = shape.Cells, gy = shape.GY;
            long pairs = shape.N * shape.O;
            // Scratch: the weights arriving from the left and from above at every scan position (2 · cells²), then the
            // walk's and the adjoint walk's line buffers ((GY + 1) · cells each).
            long size = 2L * cells * cells + 2L * (gy + 1) * cells;
            Spread(pairs, () => ArrayPool<T>.Shared.Rent(checked((int)size)), (pair, scratch) =>
            {
                long b = pair / shape.O;
                int o = (int)(pair % shape.O);
                fixed (T* s = scratch)
                {
                    T* ls = s, us = s + (long)cells * cells, w = us + (long)cells * cells, a = w + (gy + 1) * cells;
                    T* g = g0 + pair * 8 * cells;
                    Walk(g, null, ls, us, w, o, shape, T.One);
                    Adjoint(g, d0 + b * cells * cells, dg0 + pair * 8 * cells, ls, us, a, o, shape, sc);
                }
            }, scratch => ArrayPool<T>.Shared.Return(scratch));
        }

        /// <summary>
        /// The forward walk of one (entry, orientation): <c>w</c> holds, per scan column yi, the weights of every source
        /// on the r-edge leaving the previous line's cell (rows 0 … GY − 1) and on the d-edge of the previous cell of the
        /// line (row GY). Adds scale · (M0l L + M0u U) into <paramref name="outB"/> (when given) and keeps L, U per scan position
        /// in <paramref name="ls"/>, <paramref name="us"/> (when given).
        /// </summary>
        // Fully optimised from the first call: tier-0 code of these SIMD loops is several times slower, and a short run
        // (a benchmark's first iterations, a few training steps) would otherwise spend its time there.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Walk(T* g, T* outB, T* ls, T* us, T* w, int o, Shape shape, T scale)
        {
            int cells = shape.Cells, gx = shape.GX, gy = shape.GY;
            new Span<T>(w, (gy + 1) * cells).Clear();
            T* wd = w + gy * cells;
            for (int xi = 0; xi < gx; xi++)
            {
                var (lo, hi) = shape.Sources(o, xi);
                new Span<T>(wd + lo, hi - lo).Clear();
                for (int yi = 0; yi < gy; yi++)
                {
                    int n = shape.CellOf(o, xi, yi);
                    T* wr = w + yi * cells;
                    T sr = g[n], sd = g[cells + n], trl = g[2 * cells + n], tdu = g[3 * cells + n],
                        tdl = g[4 * cells + n], tru = g[5 * cells + n], ml = scale * g[6 * cells + n], mu = scale * g[7 * cells + n];
                    if (ls is not null)
                    {
                        long at = (long)(xi * gy + yi) * cells;
                        new Span<T>(wr + lo, hi - lo).CopyTo(new Span<T>(ls + at + lo, hi - lo));
                        new Span<T>(wd + lo, hi - lo).CopyTo(new Span<T>(us + at + lo, hi - lo));
                    }
                    T* row = outB is null ? null : outB + (long)n * cells;
                    int m = lo;
                    var vTrl = new Vector<T>(trl); var vTru = new Vector<T>(tru);
                    var vTdl = new Vector<T>(tdl); var vTdu = new Vector<T>(tdu);
                    var vMl = new Vector<T>(ml); var vMu = new Vector<T>(mu);
                    for (; m + Width <= hi; m += Width)
                    {
                        var L = Vector.Load(wr + m);
                        var U = Vector.Load(wd + m);
                        if (row is not null) Vector.Store(Vector.Load(row + m) + vMl * L + vMu * U, row + m);
                        Vector.Store(vTrl * L + vTru * U, wr + m);
                        Vector.Store(vTdl * L + vTdu * U, wd + m);
                    }
                    for (; m < hi; m++)
                    {
                        T L = wr[m], U = wd[m];
                        if (row is not null) row[m] += ml * L + mu * U;
                        wr[m] = trl * L + tru * U;
                        wd[m] = tdl * L + tdu * U;
                    }
                    // The source's own entry: nothing of source n arrives at n itself, so L = U = 0 there before.
                    wr[n] += sr;
                    wd[n] += sd;
                }
            }
        }

        /// <summary>
        /// The adjoint walk of one (entry, orientation), in reverse scan order: <c>a</c> holds per scan column the
        /// adjoint of the r-edge weights (rows 0 … GY − 1) and of the d-edge weight (row GY). Writes all eight gate
        /// gradients of every cell: the transitions' and marks' as sums over the sources, the sources' as their own lane.
        /// <paramref name="dOutB"/> is the gradient of scale · 𝒢: the walk reads it times scale (the mark's factor).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Adjoint(T* g, T* dOutB, T* dg, T* ls, T* us, T* a, int o, Shape shape, T scale)
        {
            int cells = shape.Cells, gx = shape.GX, gy = shape.GY;
            new Span<T>(a, (gy + 1) * cells).Clear();
            T* ad = a + gy * cells;
            for (int xi = gx - 1; xi >= 0; xi--)
            {
                var (lo, hi) = shape.Sources(o, xi);
                new Span<T>(ad + lo, hi - lo).Clear();
                for (int yi = gy - 1; yi >= 0; yi--)
                {
                    int n = shape.CellOf(o, xi, yi);
                    T* ar = a + yi * cells;
                    long at = (long)(xi * gy + yi) * cells;
                    T* Ls = ls + at, Us = us + at, d = dOutB + (long)n * cells;
                    T trl = g[2 * cells + n], tdu = g[3 * cells + n], tdl = g[4 * cells + n], tru = g[5 * cells + n],
                        ml = g[6 * cells + n], mu = g[7 * cells + n];
                    dg[n] = ar[n];                                                            // dS0r: its own lane
                    dg[cells + n] = ad[n];                                                    // dS0d
                    var vTrl = new Vector<T>(trl); var vTru = new Vector<T>(tru);
                    var vTdl = new Vector<T>(tdl); var vTdu = new Vector<T>(tdu);
                    var vMl = new Vector<T>(ml); var vMu = new Vector<T>(mu);
                    var vScale = new Vector<T>(scale);
                    Vector<T> sRl = default, sDu = default, sDl = default, sRu = default, sMl = default, sMu = default;
                    int m = lo;
                    for (; m + Width <= hi; m += Width)
                    {
                        var L = Vector.Load(Ls + m);
                        var U = Vector.Load(Us + m);
                        var D = Vector.Load(d + m) * vScale;
                        var Ar = Vector.Load(ar + m);
                        var Ad = Vector.Load(ad + m);
                        sRl += Ar * L; sDu += Ad * U; sDl += Ad * L; sRu += Ar * U; sMl += D * L; sMu += D * U;
                        Vector.Store(D * vMl + Ar * vTrl + Ad * vTdl, ar + m);
                        Vector.Store(D * vMu + Ar * vTru + Ad * vTdu, ad + m);
                    }
                    T rl = Vector.Sum(sRl), du = Vector.Sum(sDu), dl = Vector.Sum(sDl), ru = Vector.Sum(sRu),
                        mlSum = Vector.Sum(sMl), muSum = Vector.Sum(sMu);
                    for (; m < hi; m++)
                    {
                        T L = Ls[m], U = Us[m], D = scale * d[m], Ar = ar[m], Ad = ad[m];
                        rl += Ar * L; du += Ad * U; dl += Ad * L; ru += Ar * U; mlSum += D * L; muSum += D * U;
                        ar[m] = D * ml + Ar * trl + Ad * tdl;
                        ad[m] = D * mu + Ar * tru + Ad * tdu;
                    }
                    dg[2 * cells + n] = rl;
                    dg[3 * cells + n] = du;
                    dg[4 * cells + n] = dl;
                    dg[5 * cells + n] = ru;
                    dg[6 * cells + n] = mlSum;
                    dg[7 * cells + n] = muSum;
                }
            }
        }
    }
}
