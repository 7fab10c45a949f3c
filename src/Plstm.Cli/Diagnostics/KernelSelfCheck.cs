using Plstm.Layers;
using Plstm.Ops.Common;
using Plstm.Ops.TwoD;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Diagnostics;

/// <summary>
/// Checks on this machine's device that the fused 2D operator with <see cref="Plstm2DForm.Kernel"/> (on CUDA the
/// runtime-compiled kernel, <see cref="FusedGateKernel"/>; on the CPU the C# walk, <see cref="FusedGateCpuKernel"/>,
/// whose SIMD width depends on the processor) equals the row-scan form: the output and the gradient of
/// every input (Q, K, V, S0r, S0d, T0rl, T0du, T0dl, T0ru, M0l, M0u, D0) of a random weighted sum, on awkward grids
/// (1 × 1, single rows and columns, long thin grids, non-square, up to the kernel's 64 × 64) with every transition
/// wiring, in float64 (rule <see cref="NumericTolerances.Float64Rtol"/>) and float32 (the float32 rule). The row-scan
/// form itself is tested against the cell-by-cell oracle in the test suite; this is the device side of that chain, on
/// the GPU (where the test suite cannot run) or on this machine's CPU. Then the 2D layer's gate activation
/// (<see cref="GateActivation"/>, on CUDA a kernel of its own) against its definition, gates and gradient.
/// </summary>
public static class KernelSelfCheck
{
    private static readonly string[] InputNames = { "Q", "K", "V", "S0r", "S0d", "T0rl", "T0du", "T0dl", "T0ru", "M0l", "M0u", "D0" };

    /// <summary>Grids checked: 1 × 1, single rows and columns, thin and non-square grids, the vision grids 14², 32² and
    /// 64², 31 × 33 (1,023 cells, the last with lines of any length), 40 × 20 (more than 32 lines in 800 cells: the
    /// backward's segments of four lines with parked adjoint weights in the small blocks), 40 × 50 and 65 × 63 (4,095
    /// cells): grids above 1,024 cells take the kernel's larger backward blocks and opted-in shared memory.</summary>
    public static readonly (int X, int Y)[] Grids =
    {
        (1, 1), (1, 7), (7, 1), (2, 2), (3, 5), (5, 3), (2, 17), (17, 2), (9, 4), (14, 14), (16, 16), (31, 33), (32, 32),
        (40, 20), (40, 50), (65, 63), (64, 64),
    };

    /// <summary>The grids checked on a device: all of <see cref="Grids"/> on CUDA; on the CPU those of up to 1,024 cells
    /// (the row-scan reference needs cells² values per batch entry and orientation at every row, gigabytes at 64², and
    /// the CPU walk has no large-grid variant to check).</summary>
    public static IReadOnlyList<(int X, int Y)> GridsFor(DeviceType device) =>
        device == DeviceType.CUDA ? Grids : Grids.Where(g => g.X * g.Y <= FusedGateKernel.MaxCellsAnyLine).ToArray();

    /// <summary>Transition wirings: all four transitions, D-mode "L" (no T0dl), D-mode "R" (no T0ru), straight only.</summary>
    public static readonly string[] Wirings = { "all", "DL", "DR", "straight" };

    /// <summary>The parts of the check, in the order they run: the gate walk against the row-scan form, the D-mode
    /// closed form against the walk, the gate activation, the masked attention kernels, the layer end to end.</summary>
    public static readonly string[] Parts = { "walk", "single-path", "activation", "attention", "layer", "norm", "linear" };

    /// <summary>"unknown part 'NAME'; known: …" for the first of <paramref name="parts"/> not in <see cref="Parts"/>, or
    /// null when every one is known (or <paramref name="parts"/> is null).</summary>
    public static string? UnknownPart(IEnumerable<string>? parts) =>
        (parts ?? []).FirstOrDefault(part => !Parts.Contains(part)) is { } unknown
            ? $"unknown part '{unknown}'; known: {string.Join(", ", Parts)}"
            : null;

    /// <summary>Runs every case of the chosen <paramref name="parts"/> (null: all of <see cref="Parts"/>) on
    /// <paramref name="device"/>, writes one line per case and a summary per part, and returns the number of failed
    /// cases (−1 when the kernel cannot run here: it would silently fall back to the row scan).</summary>
    /// <exception cref="ArgumentException">A part not in <see cref="Parts"/>.</exception>
    public static int Run(Device device, TextWriter output, long seed = 1, IReadOnlyCollection<string>? parts = null)
    {
        if (UnknownPart(parts) is { } problem) throw new ArgumentException(problem, nameof(parts));
        bool Runs(string part) => parts is null || parts.Contains(part);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(device);
        string? unavailable = device.type switch
        {
            DeviceType.CUDA => FusedGateKernel.UnavailableReason,
            DeviceType.CPU => null,
            _ => "neither a CUDA device nor the CPU",
        };
        if (unavailable is not null)
        {
            output.WriteLine($"kernel unavailable on {device}: {unavailable}");
            return -1;
        }
        // On CUDA the kernel form takes the closed form (SinglePathGateKernel) for the one-turn wirings (DL, DR, straight)
        // on grids it takes, the walk for the rest: both are checked here against the row-scan form.
        string walk = device.type == DeviceType.CUDA
            ? "CUDA kernels: the walk, the closed form for one-turn wirings up to 1,024 cells"
            : $"CPU walk, {System.Numerics.Vector<float>.Count} float lanes";
        if (device.type == DeviceType.CUDA && Runs("walk"))
        {
            // What the kernels hold per thread (the driver reserves local memory for every thread the device can hold).
            int index = device.index < 0 ? 0 : device.index;
            foreach (var (x, y) in new[] { (14, 14), (32, 32), (64, 64) })
            {
                var (forward, backward) = FusedGateKernel.Resources(index, ScalarType.Float32, x, y);
                output.WriteLine($"float32 {x}x{y} kernels: forward {forward.Registers} registers, {forward.LocalBytes} B local; "
                    + $"backward {backward.Registers} registers, {backward.LocalBytes} B local per thread");
            }
        }
        int failed = 0, cases = 0;
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            foreach (var (x, y) in Runs("walk") ? GridsFor(device.type) : [])
                foreach (var wiring in Wirings)
                {
                    cases++;
                    var worst = Compare(device, dtype, x, y, wiring, seed + 1000 * x + y);
                    if (!Report(output, $"{DtypeName(dtype),-7} {x,2}x{y,-2} {wiring}", worst)) failed++;
                }
        if (Runs("walk"))
            output.WriteLine($"{cases - failed} of {cases} cases agree ({walk} vs row-scan form, output and 12 gradients)");
        return failed + (Runs("single-path") ? CheckSinglePath(device, output, seed) : 0)
            + (Runs("activation") ? CheckGateActivation(device, output, seed) : 0)
            + (Runs("attention") ? CheckMaskedAttention(device, output, seed) + CheckOperatorAttention(device, output, seed) : 0)
            + (Runs("layer") ? CheckLayer(device, output, seed) : 0)
            + (Runs("norm") ? CheckRmsNorm(device, output, seed) : 0)
            + (Runs("linear") ? CheckLinear(device, output, seed) : 0);
    }

    /// <summary>Input shapes × output widths of the linear cases: one row, a rank-4 and a rank-3 input, the 2D layer's
    /// stacked projections (P 624, D 660 columns) and the MLP's up- and down-projections at a 224-px batch of 128.</summary>
    private static readonly (long[] Shape, long Out)[] LinearShapes =
    {
        (new long[] { 1, 5 }, 3), (new long[] { 2, 3, 4, 24 }, 17), (new long[] { 4, 197, 192 }, 576),
        (new long[] { 128, 14, 14, 192 }, 624), (new long[] { 128, 14, 14, 192 }, 660), (new long[] { 25_088, 192 }, 768),
        (new long[] { 25_088, 768 }, 192),
    };

    /// <summary>The layers' linear maps with a bias (<see cref="RowsLinear.Linear"/>; with PLSTM_ROWS_LINEAR=on on CUDA the
    /// function) on <paramref name="device"/> in float32 and float64 against libtorch's
    /// linear in float64 on the CPU, output and the gradients of input, weight and bias; returns the failed cases.</summary>
    private static int CheckLinear(Device device, TextWriter output, long seed)
    {
        int failed = 0, cases = 0;
        foreach (var (shape, outputs) in LinearShapes)
        {
            using var scope = NewDisposeScope();
            manual_seed(seed + 7 * outputs + shape[^1]);
            long inputs = shape[^1];
            var x = randn(shape, dtype: ScalarType.Float64);
            var weight = randn(new[] { outputs, inputs }, dtype: ScalarType.Float64) / Math.Sqrt(inputs);
            var bias = randn(new[] { outputs }, dtype: ScalarType.Float64);
            var weights = randn(shape.Take(shape.Length - 1).Append(outputs).ToArray(), dtype: ScalarType.Float64);
            (Tensor Y, Tensor Dx, Tensor Dw, Tensor Db) Run(Device on, ScalarType dtype, bool reference)
            {
                // Fresh leaves each run (to() returns the tensor itself when nothing changes).
                Tensor Leaf(Tensor t) => t.to(on).to(dtype).detach().clone().requires_grad_(true);
                var (xl, wl, bl) = (Leaf(x), Leaf(weight), Leaf(bias));
                var y = reference ? nn.functional.linear(xl, wl, bl) : RowsLinear.Linear(xl, wl, bl);
                (y * weights.to(on).to(dtype)).sum().backward();
                return (y.detach().cpu().to(ScalarType.Float64), xl.grad!.cpu().to(ScalarType.Float64),
                    wl.grad!.cpu().to(ScalarType.Float64), bl.grad!.cpu().to(ScalarType.Float64));
            }
            var expected = Run(CPU, ScalarType.Float64, reference: true);
            foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            {
                cases++;
                var actual = Run(device, dtype, reference: false);
                var worst = Worst(new[] { ("y", actual.Y, expected.Y), ("dx", actual.Dx, expected.Dx),
                    ("dweight", actual.Dw, expected.Dw), ("dbias", actual.Db, expected.Db) }, dtype);
                if (!Report(output, $"{DtypeName(dtype),-7} linear [{string.Join(", ", shape)}] -> {outputs}", worst)) failed++;
            }
        }
        bool function = device.type == DeviceType.CUDA && RowsLinear.On;
        output.WriteLine($"{cases - failed} of {cases} linear cases agree ({(function ? "RowsLinear" : "libtorch's linear")} "
            + "vs libtorch's linear in float64 on the CPU, output and the gradients of input, weight and bias)");
        return failed + CheckLinearLeaves(device, output);
    }

    /// <summary>Repeated forward and backward steps of a float32 linear map leave as many live tensors as one step;
    /// 1 when they do not.</summary>
    private static int CheckLinearLeaves(Device device, TextWriter output)
    {
        using var x = randn(new long[] { 4, 9, 48 }, device: device).requires_grad_(true);
        using var w = randn(new long[] { 40, 48 }, device: device).requires_grad_(true);
        using var b = randn(new long[] { 40 }, device: device).requires_grad_(true);
        return CheckLeaves(output, "linear", () => RowsLinear.Linear(x, w, b).square().sum().backward());
    }

    /// <summary>Ten more forward and backward steps (<paramref name="step"/>, each in its own dispose scope) leave as many
    /// live tensors as one step — a custom function's saved tensors and its backward's results released; prints one line
    /// and returns 1 when they do not.</summary>
    private static int CheckLeaves(TextWriter output, string what, Action step)
    {
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step()
        {
            using var scope = NewDisposeScope();
            step();
        }
        Step();                                                                  // the leaves' gradients, made once
        long before = Live();
        for (int i = 0; i < 10; i++) Step();
        long after = Live();
        bool ok = after == before;
        output.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}, 10 more steps: {before} live tensors before, {after} after");
        return ok ? 0 : 1;
    }

    /// <summary>Rows × widths of the norm cases: one value, odd widths (partial lanes), the vision models' 192 at a
    /// 224-px batch of 128 (25,088 rows), the widest the kernels take.</summary>
    private static readonly (long Rows, long Width)[] NormShapes =
    {
        (1, 1), (7, 31), (3, 192), (25_088, 192), (50, 200), (9, 1024),
    };

    /// <summary>The blocks' RMS norm (<see cref="Blocks.RmsNorm"/>; on CUDA in float32 its fused kernels) against the same
    /// module's tensor operations in float64, output and the gradients of x and the scale; returns the failed cases.</summary>
    private static int CheckRmsNorm(Device device, TextWriter output, long seed)
    {
        int failed = 0, cases = 0;
        bool kernel = false;
        foreach (var (rows, width) in NormShapes)
        {
            cases++;
            using var scope = NewDisposeScope();
            manual_seed(seed + 13 * rows + width);
            var norm = new Blocks.RmsNorm("norm", width).to(device);
            using (no_grad())
                norm.Scale.copy_(randn(new[] { width }, dtype: ScalarType.Float64).mul_(0.5).add_(1.0));
            var x = (randn(new[] { rows, width }, dtype: ScalarType.Float64) * 1.7 + 0.3).to(device);
            var weights = randn(new[] { rows, width }, dtype: ScalarType.Float64).to(device);
            (Tensor Y, Tensor Dx, Tensor DScale) Run(ScalarType dtype)
            {
                norm.zero_grad(true);
                var leaf = x.to(dtype).detach().requires_grad_(true);
                var y = norm.forward(leaf);
                (y * weights.to(dtype)).sum().backward();
                return (y.detach(), leaf.grad!.detach(), norm.Scale.grad!.detach().clone());
            }
            kernel |= norm.UsesKernel(x.to(ScalarType.Float32));
            var (y32, dx32, ds32) = Run(ScalarType.Float32);
            var (y64, dx64, ds64) = Run(ScalarType.Float64);
            var worst = Worst(new[] { ("y", y32, y64), ("dx", dx32, dx64), ("dscale", ds32, ds64) }, ScalarType.Float32);
            if (!Report(output, $"float32 RMS norm {rows} x {width}", worst)) failed++;
        }
        output.WriteLine($"{cases - failed} of {cases} RMS norm cases agree ({(kernel ? "CUDA kernels" : "tensor operations")} "
            + "in float32 vs the tensor operations in float64, output and the gradients of x and the scale)");
        return failed + CheckRmsNormLeaves(device, output);
    }

    /// <summary>Repeated forward and backward steps of the blocks' norm in float32 leave as many live tensors as one step
    /// (the custom function's saved tensors and its backward's results released); 1 when they do not.</summary>
    private static int CheckRmsNormLeaves(Device device, TextWriter output)
    {
        var norm = new Blocks.RmsNorm("norm", 192).to(device);
        using var x = randn(new long[] { 64, 192 }, device: device).requires_grad_(true);
        return CheckLeaves(output, "RMS norm", () => norm.forward(x).square().sum().backward());
    }

    /// <summary>Grids of the single-path cases: one cell, single lines and columns, thin, odd and square grids, the vision
    /// grid 14², the largest side (64) and the largest grid (1,024 cells) the kernels take.</summary>
    private static readonly (int X, int Y)[] SinglePathGrids =
    {
        (1, 1), (1, 9), (9, 1), (2, 2), (3, 5), (7, 4), (14, 14), (17, 2), (16, 64), (64, 16), (31, 33), (32, 32),
    };

    /// <summary>The D-mode closed form (<see cref="SinglePathGateKernel"/>) against the gate walk
    /// (<see cref="FusedGateKernel"/>) on CUDA, both chiralities, float64 and float32, with a direct gate and a scale: the
    /// gate and the gradients of the gates a D-mode layer has and of the direct gate. Returns the failed cases (none run
    /// where the kernels do not).</summary>
    private static int CheckSinglePath(Device device, TextWriter output, long seed)
    {
        if (device.type != DeviceType.CUDA || SinglePathGateKernel.UnavailableReason is not null)
        {
            output.WriteLine($"single-path kernels not run: {(device.type != DeviceType.CUDA ? "not a CUDA device" : SinglePathGateKernel.UnavailableReason)}");
            return 0;
        }
        int failed = 0, cases = 0;
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            foreach (var (x, y) in SinglePathGrids)
                foreach (bool left in new[] { false, true })
                {
                    cases++;
                    using var scope = NewDisposeScope();
                    manual_seed(seed + 13 * x + y + (left ? 5 : 0));
                    const long N = 3;
                    int absent = left ? 4 : 5;                                               // T0dl in L, T0ru in R
                    // Sources and marks in (−1, 1); transitions that keep path sums bounded (the straight share and the
                    // turn share of an edge add up to at most 1, random signs), the absent turn zero.
                    var gates = rand(new long[] { N, 4, 8, x, y }, dtype: ScalarType.Float64) * 2 - 1;
                    var share = rand(new long[] { N, 4, x, y }, dtype: ScalarType.Float64);
                    var sign = rand(new long[] { N, 4, 4, x, y }, dtype: ScalarType.Float64).gt(0.5).to(ScalarType.Float64) * 2 - 1;
                    int straight = left ? 3 : 2, turn = 6 - absent + 3;                        // the chain that turns, and the turn
                    gates.select(2, straight).copy_((1 - share) * sign.select(2, 0));
                    gates.select(2, turn).copy_(share * sign.select(2, 1));
                    gates.select(2, 5 - straight).copy_(rand(new long[] { N, 4, x, y }, dtype: ScalarType.Float64) * sign.select(2, 2));
                    gates.select(2, absent).zero_();
                    var direct = rand(new long[] { N, x * y }, dtype: ScalarType.Float64) * 2 - 1;
                    var weights = randn(new long[] { N, x * y, x * y }, dtype: ScalarType.Float64).to(dtype).to(device);
                    (Tensor Gate, Tensor DGates, Tensor DDirect) Run(bool closedForm)
                    {
                        var g = gates.to(dtype).to(device).requires_grad_(true);
                        var d = direct.to(dtype).to(device).requires_grad_(true);
                        var result = closedForm ? SinglePathGateKernel.Gate(g, left, d, 0.37) : FusedGateKernel.Gate(g, d, 0.37);
                        (result * weights).sum().backward();
                        var present = tensor(Enumerable.Range(0, 8).Where(i => i != absent).Select(i => (long)i).ToArray(), device: device);
                        return (result.detach(), g.grad!.index_select(2, present), d.grad!);
                    }
                    var (gate, dGates, dDirect) = Run(closedForm: true);
                    var (walkGate, walkDGates, walkDDirect) = Run(closedForm: false);
                    var worst = Worst(new[] { ("gate", gate, walkGate), ("dgates", dGates, walkDGates), ("dD0", dDirect, walkDDirect) }, dtype);
                    if (!Report(output, $"{DtypeName(dtype)} single path {(left ? "L" : "R")} {x}x{y}", worst)) failed++;
                }
        output.WriteLine($"{cases - failed} of {cases} single-path cases agree (D-mode closed form vs gate walk, gate and the "
            + "gradients of the gates and the direct gate)");
        return failed;
    }

    /// <summary>Shapes (N, T, DK, DV) of the masked attention cases: one token, ragged token counts around the kernels'
    /// tiles (16 rows per warp, 64 per block, key tiles of 32 and 64), every width class, the vision shapes (14² and 32²
    /// cells) and the largest grid (64 × 64 − 1 cells).</summary>
    private static readonly (int N, int T, int DK, int DV)[] AttentionShapes =
    {
        (1, 1, 8, 8), (3, 7, 16, 8), (2, 17, 64, 64), (2, 33, 8, 56), (5, 100, 32, 64), (4, 65, 24, 40), (6, 196, 64, 64),
        (2, 1024, 64, 64), (1, 4095, 64, 64),
    };

    /// <summary>Why the masked attention kernels do not build on a CUDA device of compute capability 8.0 or newer, null
    /// when they do or the device is older (the kernels' documented limit).</summary>
    private static string? AttentionBuildError(int index) => !MaskedAttentionKernel.HasTensorCores(index) ? null
        : MaskedAttentionKernel.BuildError(index, 8, 8) ?? MaskedAttentionKernel.BuildError(index, 64, 64);

    /// <summary>The masked attention kernels (<see cref="MaskedAttentionKernel"/>, float32 on tensor cores) against the
    /// same products in float64: output and the gradients of Q, K, V and the gate under the float32 rule. Returns the
    /// failed cases (none run where the kernels do not: CPU, older devices).</summary>
    private static int CheckMaskedAttention(Device device, TextWriter output, long seed)
    {
        int index = device.index < 0 ? 0 : device.index;
        using (var probe = zeros(1, 1, 8, device: device))
            if (!MaskedAttentionKernel.CanRun(probe, 1, 8, 8))
            {
                // A device that should run them but where they do not build is a failure, not a skip.
                string? error = device.type == DeviceType.CUDA && FusedGateKernel.UnavailableReason is null
                    ? AttentionBuildError(index) : null;
                output.WriteLine(error is null
                    ? "masked attention kernels do not run here (batched products instead): not checked"
                    : $"FAIL masked attention kernels do not build: {error}");
                return error is null ? 0 : 1;
            }
        var resources = MaskedAttentionKernel.Resources(index, 64, 64);
        output.WriteLine("masked attention kernels, DK = DV = 64: " + string.Join("; ", new[] { "forward", "dQ", "dK/dV", "fused backward" }
            .Zip(resources, (name, r) => $"{name} {r.Registers} registers, {r.LocalBytes} B local")));
        int failed = 0, cases = 0;
        // Both backward forms in float32 (3xTF32), and the fused one with TF32 products (the half-precision layers').
        var variants = new[]
        {
            (MaskedAttentionBackwardForm.Fused, MaskedAttentionPrecision.Float32),
            (MaskedAttentionBackwardForm.TwoKernels, MaskedAttentionPrecision.Float32),
            (MaskedAttentionBackwardForm.Fused, MaskedAttentionPrecision.Tf32),
        };
        foreach (var (n, t, dk, dv) in AttentionShapes)
        foreach (var (form, precision) in variants)
        {
            cases++;
            if (MaskedAttentionKernel.BuildError(index, dk, dv) is { } error)
            {
                failed++;
                output.WriteLine($"FAIL float32 masked attention DK {dk} DV {dv}: the kernels do not build: {error}");
                continue;
            }
            using var scope = NewDisposeScope();
            manual_seed(seed + 13 * t + dk);
            var q = randn(new long[] { n, t, dk }, dtype: ScalarType.Float64, device: device);
            var k = randn(new long[] { n, t, dk }, dtype: ScalarType.Float64, device: device);
            var v = randn(new long[] { n, t, dv }, dtype: ScalarType.Float64, device: device);
            var gate = (rand(new long[] { n, t, t }, dtype: ScalarType.Float64, device: device) * 2 - 1) / Math.Sqrt(t);
            var dy = randn(new long[] { n, t, dv }, dtype: ScalarType.Float64, device: device);
            Tensor F(Tensor x) => x.to(ScalarType.Float32).contiguous();
            var y = MaskedAttentionKernel.Forward(F(q), F(k), F(v), F(gate), precision);
            var (dq, dk32, dv32, dg) = MaskedAttentionKernel.Backward(F(q), F(k), F(v), F(gate), F(dy), form, precision);
            // The reference in float64 (inputs rounded to float32 first: the kernel sees those).
            var (qr, kr, vr, gr, dyr) = (F(q).to(ScalarType.Float64), F(k).to(ScalarType.Float64), F(v).to(ScalarType.Float64),
                F(gate).to(ScalarType.Float64), F(dy).to(ScalarType.Float64));
            var scores = qr.matmul(kr.transpose(1, 2));
            var dA = dyr.matmul(vr.transpose(1, 2));
            var dS = dA * gr;
            var checks = new (string Name, Tensor Actual, Tensor Expected)[]
            {
                ("Y", y, (scores * gr).matmul(vr)), ("dQ", dq, dS.matmul(kr)), ("dK", dk32, dS.transpose(1, 2).matmul(qr)),
                ("dV", dv32, (scores * gr).transpose(1, 2).matmul(dyr)), ("dG", dg, dA * scores),
            };
            bool tf32 = precision == MaskedAttentionPrecision.Tf32;
            if (!Report(output, $"{(tf32 ? "TF32" : "float32")} masked attention N {n} T {t} DK {dk} DV {dv} "
                    + $"{(form == MaskedAttentionBackwardForm.Fused ? "fused" : "two-kernel")} backward",
                    Worst(checks, ScalarType.Float32, tf32)))
                failed++;
        }
        output.WriteLine($"{cases - failed} of {cases} masked attention cases agree (3xTF32 kernels vs float64 products, "
            + "output and the gradients of Q, K, V and the gate; the fused and the two-kernel backward; the fused with TF32 "
            + "products under the TF32 rule)");
        return failed;
    }

    /// <summary>The 2D layer end to end on the device: the kernel form (gate activation, walk and masked attention in
    /// one function) against the hierarchical form (a different operator altogether), P-mode and both D-mode
    /// chiralities, float64: the output and the gradients of the input and every parameter. Returns the failed cases.</summary>
    private static int CheckLayer(Device device, TextWriter output, long seed)
    {
        int failed = 0, cases = 0;
        foreach (var (mode, chirality) in new[] { (Plstm2DMode.P, "L"), (Plstm2DMode.D, "L"), (Plstm2DMode.D, "R") })
            // D 16 with 2 heads (gate rows of 2 input channels each) and the vision presets' 192 with 3 (16 each).
            foreach (var (x, y, d, h) in new[] { (5, 7, 16, 2), (14, 14, 16, 2), (14, 14, 192, 3) })
            {
                cases++;
                using var scope = NewDisposeScope();
                manual_seed(seed + 31 * x + y + d);
                using var layer = new Plstm2DLayer("layer", new Plstm2DLayerConfig(d, h, mode) { DModeChirality = chirality });
                layer.to(ScalarType.Float64).to(device);
                using (no_grad())
                    foreach (var (name, p) in layer.named_parameters())
                        p.copy_(randn(p.shape, dtype: ScalarType.Float64).to(device) * (0.3 * Math.Sqrt(16.0 / d))
                            + (name == "mhnorm.scale" ? 1.0 : 0.0));                   // the same scale of products at any D
                var input = randn(new long[] { 2, x, y, d }, dtype: ScalarType.Float64).to(device);
                var upstream = randn(new long[] { 2, x, y, d }, dtype: ScalarType.Float64).to(device);
                var parameters = layer.named_parameters().ToList();
                (Tensor Y, Tensor[] Grads) Run(Plstm2DForm form, ScalarType dtype = ScalarType.Float64)
                {
                    layer.Form = form;
                    layer.zero_grad(true);
                    var leaf = input.to(dtype).detach().requires_grad_(true);
                    var result = layer.forward(leaf);
                    (result * upstream.to(dtype)).sum().backward();
                    // Read the parameters again: a dtype conversion replaces them.
                    var grads = new[] { leaf.grad!.detach() }.Concat(layer.named_parameters()
                        .Select(p => p.parameter.grad?.detach().clone() ?? zeros_like(p.parameter))).ToArray();
                    return (result.detach(), grads);
                }
                var (hierY, hierGrads) = Run(Plstm2DForm.Hierarchical);
                // The output and every gradient (of the input, then of each parameter) against the hierarchical form's.
                IEnumerable<(string, Tensor, Tensor)> Against((Tensor Y, Tensor[] Grads) actual) =>
                    actual.Grads.Select((g, i) => (i == 0 ? "dx" : "d" + parameters[i - 1].name, g, hierGrads[i]))
                        .Prepend(("y", actual.Y, hierY));
                string label = $"layer {mode}{(mode == Plstm2DMode.D ? chirality : "")} {x}x{y} D {d} H {h}";
                if (!Report(output, $"float64 {label}", Worst(Against(Run(Plstm2DForm.Kernel)), ScalarType.Float64))) failed++;
                // float32, where CUDA runs the masked attention kernels (DK = 8), against the float64 hierarchical form;
                // storing the gate for backward and recomputing it.
                layer.to(ScalarType.Float32);
                foreach (bool recompute in new[] { false, true })
                {
                    cases++;
                    layer.RecomputeInBackward = recompute;
                    var worst = Worst(Against(Run(Plstm2DForm.Kernel, ScalarType.Float32)), ScalarType.Float32);
                    if (!Report(output, $"float32 {label}{(recompute ? " recomputing" : "")}", worst)) failed++;
                }
                layer.RecomputeInBackward = false;
                // bfloat16 (the projections in bfloat16, the walk and the masked attention in float32 with TF32 products on
                // CUDA) against the float64 hierarchical form under the bfloat16 rule.
                cases++;
                layer.to(ScalarType.BFloat16);
                var halfWorst = Worst(Against(Run(Plstm2DForm.Kernel, ScalarType.BFloat16)), name => Rule.Scaled(0,
                    name == "y" ? NumericTolerances.BFloat16Scale : NumericTolerances.BFloat16GradScale));
                if (!Report(output, $"bfloat16 {label}", halfWorst)) failed++;
                layer.to(ScalarType.Float64);
            }
        output.WriteLine($"{cases - failed} of {cases} layer cases agree (kernel form vs hierarchical form, output and the "
            + "gradients of the input and every parameter; bfloat16 under its own rule)");
        return failed;
    }

    /// <summary>The operator's kernel form where CUDA runs the masked attention kernels too (float32, DK = DV = 8): the
    /// walk or closed form, the masked attention, and in backward the walk's adjoint beside the key kernel
    /// (<c>PLSTM_OVERLAP</c>), against the float64 row-scan form on the same inputs — every wiring, storing the gate and
    /// recomputing it. Returns the failed cases (none run where the kernels do not).</summary>
    private static int CheckOperatorAttention(Device device, TextWriter output, long seed)
    {
        bool kernels = false;
        if (device.type == DeviceType.CUDA)
            using (var probe = ones(new long[] { 1, 1, 8 }, device: device))
                kernels = MaskedAttentionKernel.CanRun(probe, 1, 8, 8);
        if (!kernels)
        {
            output.WriteLine("operator cases with the masked attention kernels not run: the kernels do not run here");
            return 0;
        }
        int failed = 0, cases = 0;
        foreach (var (x, y) in new[] { (5, 7), (14, 14) })
            foreach (var wiring in Wirings)
                foreach (bool recompute in new[] { false, true })
                {
                    cases++;
                    using var scope = NewDisposeScope();
                    var leaves = RandomInputs(device, ScalarType.Float64, x, y, wiring, seed + 7000 + 100 * x + y, dk: 8, dv: 8);
                    var weights = randn(new long[] { 3, x, y, 8, 1 }, dtype: ScalarType.Float64, device: device);
                    var (expected, expectedGrads) = Run(leaves, weights, Plstm2DForm.RowScan);
                    var single = leaves.Select(t => t?.to(ScalarType.Float32)).ToArray();
                    var (actual, actualGrads) = Run(single, weights.to(ScalarType.Float32), Plstm2DForm.Kernel, recompute);
                    if (!Report(output, $"float32 operator {x,2}x{y,-2} {wiring}{(recompute ? " recomputing" : "")}",
                            Worst(Pairs((actual, actualGrads), (expected, expectedGrads)), ScalarType.Float32))) failed++;
                }
        output.WriteLine($"{cases - failed} of {cases} operator cases agree (kernel form with the masked attention kernels, "
            + "float32, vs the float64 row-scan form, output and 12 gradients)");
        return failed;
    }

    /// <summary>Shapes (B, X, Y, H) of the gate activation cases: one cell, thin, ragged, the vision shapes.</summary>
    private static readonly (int B, int X, int Y, int H)[] ActivationShapes =
    {
        (1, 1, 1, 1), (2, 1, 9, 2), (3, 7, 5, 3), (4, 14, 14, 3), (2, 32, 32, 3), (1, 64, 64, 2),
    };

    /// <summary>The layer's gate activation (<see cref="GateActivation"/>; on CUDA its runtime-compiled kernel) against
    /// its tensor-operation definition differentiated by autograd, every mode, float64 and float32; returns the failed
    /// cases.</summary>
    private static int CheckGateActivation(Device device, TextWriter output, long seed)
    {
        int failed = 0, cases = 0;
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            foreach (var (b, x, y, h) in ActivationShapes)
                foreach (var mode in Enum.GetValues<GateActivationMode>())
                {
                    cases++;
                    using var scope = NewDisposeScope();
                    manual_seed(seed + 7 * x + y);
                    long columns = GateActivation.Kinds(mode) * 4L * h;
                    // The pre-activations as the layer passes them: a view of a wider projection output.
                    var projection = (randn(new long[] { b, x, y, columns + 6 }, dtype: ScalarType.Float64) * 2.5).to(dtype).to(device);
                    var weights = randn(new long[] { b * h, 4, 8, x, y }, dtype: ScalarType.Float64).to(dtype).to(device);
                    (Tensor Gates, Tensor Grad) Run(bool reference)
                    {
                        var leaf = projection.detach().requires_grad_(true);
                        var pre = leaf.narrow(3, 4, columns);
                        var gates = reference ? GateActivation.Reference(pre, h, mode, 1.3) : GateActivation.Apply(pre, h, mode, 1.3);
                        (gates * weights).sum().backward();
                        return (gates.detach(), leaf.grad!.detach());
                    }
                    var (actual, actualGrad) = Run(reference: false);
                    var (expected, expectedGrad) = Run(reference: true);
                    var worst = Worst(new[] { ("gates", actual, expected), ("dpre", actualGrad, expectedGrad) }, dtype);
                    if (!Report(output, $"{DtypeName(dtype),-7} gate activation {mode} B {b} {x}x{y} H {h}", worst)) failed++;
                }
        string form = device.type == DeviceType.CUDA && GateActivation.RunsKernel(zeros(1, 1, 1, 16, device: device))
            ? "CUDA kernel" : "tensor operations";
        output.WriteLine($"{cases - failed} of {cases} gate activation cases agree ({form} vs autograd of the definition, "
            + "gates and gradient)");
        return failed;
    }

    private static string DtypeName(ScalarType t) => t == ScalarType.Float64 ? "float64" : "float32";

    /// <summary>The largest ratio error / tolerance over the output and every gradient, and which tensor it was.</summary>
    private static (double Worst, string What) Compare(Device device, ScalarType dtype, int x, int y, string wiring, long seed)
    {
        using var scope = NewDisposeScope();
        var leaves = RandomInputs(device, dtype, x, y, wiring, seed);
        var weights = randn(new long[] { 3, x, y, 4, 1 }, generator: null, dtype: dtype, device: device);
        return Worst(Pairs(Run(leaves, weights, Plstm2DForm.Kernel), Run(leaves, weights, Plstm2DForm.RowScan)), dtype);
    }

    /// <summary>The operator's output and each gradient the expected run has, as named (actual, expected) pairs.</summary>
    private static IEnumerable<(string Name, Tensor Actual, Tensor Expected)> Pairs(
        (Tensor Output, Tensor?[] Gradients) actual, (Tensor Output, Tensor?[] Gradients) expected) =>
        InputNames.Select((name, i) => ("d" + name, actual.Gradients[i], expected.Gradients[i]))
            .Where(g => g.Item3 is not null).Select(g => (g.Item1, g.Item2!, g.Item3!))
            .Prepend(("Y", actual.Output, expected.Output));

    /// <summary>An agreement rule <c>|a − e| ≤ atol(max|e|) + rtol·|e|</c> (<see cref="NumericTolerances"/>).</summary>
    private readonly record struct Rule(double Rtol, Func<double, double> Atol)
    {
        /// <summary>The dtype's rule; with <paramref name="tf32"/> the rule of TF32 products.</summary>
        public static Rule For(ScalarType dtype, bool tf32 = false) =>
            tf32 ? Scaled(NumericTolerances.Tf32Rtol, NumericTolerances.Tf32AbsScale)
            : dtype == ScalarType.Float64 ? new(NumericTolerances.Float64Rtol, _ => NumericTolerances.Float64Atol)
            : new(NumericTolerances.Float32Rtol, NumericTolerances.Float32Atol);

        /// <summary>The absolute part <paramref name="absScale"/>·max(1, max|e|).</summary>
        public static Rule Scaled(double rtol, double absScale) => new(rtol, maxAbs => absScale * Math.Max(1.0, maxAbs));
    }

    /// <summary>The largest ratio error / tolerance (<see cref="Ratio"/>) over named (actual, expected) pairs under the
    /// dtype's rule, and which pair it was (the first of equal ones).</summary>
    private static (double Worst, string What) Worst(IEnumerable<(string Name, Tensor Actual, Tensor Expected)> pairs,
        ScalarType dtype, bool tf32 = false) => Worst(pairs, _ => Rule.For(dtype, tf32));

    /// <summary>As above, each pair under the rule <paramref name="ruleOf"/> gives for its name.</summary>
    private static (double Worst, string What) Worst(IEnumerable<(string Name, Tensor Actual, Tensor Expected)> pairs,
        Func<string, Rule> ruleOf)
    {
        (double Worst, string What) result = (double.NegativeInfinity, "");
        foreach (var (name, actual, expected) in pairs)
        {
            double r = Ratio(actual, expected, ruleOf(name));
            if (r > result.Worst) result = (r, name);
        }
        return result;
    }

    /// <summary>Writes one case's line and returns whether it passed (worst ratio at most 1).</summary>
    private static bool Report(TextWriter output, string label, (double Worst, string What) worst)
    {
        bool ok = worst.Worst <= 1.0;
        output.WriteLine($"{(ok ? "ok  " : "FAIL")} {label}: worst {worst.What}: {worst.Worst:0.000} of the tolerance");
        return ok;
    }

    private static (Tensor Output, Tensor?[] Gradients) Run(Tensor?[] leaves, Tensor weights, Plstm2DForm form,
        bool recompute = false)
    {
        var l = leaves.Select(t => t?.detach().requires_grad_(true)).ToArray();
        var inputs = new Plstm2DFusedInputs(l[0]!, l[1]!, l[2]!, l[3]!, l[4]!, l[5]!, l[6]!, l[7], l[8], l[9]!, l[10]!, l[11]!);
        var y = Plstm2DFused.Forward(inputs, form: form, recomputeInBackward: recompute);
        (y * weights).sum().backward();
        return (y.detach(), l.Select(t => t?.grad?.detach()).ToArray());
    }

    /// <summary>max over elements of |a − e| / (atol + rtol·|e|) under <paramref name="rule"/>.</summary>
    private static double Ratio(Tensor actual, Tensor expected, Rule rule)
    {
        using var scope = NewDisposeScope();
        var a = actual.to(ScalarType.Float64);
        var e = expected.to(ScalarType.Float64);
        if (e.numel() == 0) return 0;
        double atol = rule.Atol(e.abs().max().item<double>());
        return ((a - e).abs() / (e.abs() * rule.Rtol + atol)).max().item<double>();
    }

    /// <summary>Random inputs with bounded path sums (P-mode-like transitions: what enters a cell leaves it with total
    /// weight at most 1, with random signs) so that float32 stays meaningful on 32 × 32 grids; sources, marks and D0
    /// uniform in (−1, 1); B = 3, DK = 5, DV = 4 unless given.</summary>
    private static Tensor?[] RandomInputs(Device device, ScalarType dtype, int x, int y, string wiring, long seed,
        long dk = 5, long dv = 4)
    {
        manual_seed(seed);
        const long B = 3;
        Tensor Uniform(params long[] shape) => rand(shape, dtype: ScalarType.Float64) * 2 - 1;
        Tensor Sign(params long[] shape) => rand(shape, dtype: ScalarType.Float64).gt(0.5).to(ScalarType.Float64) * 2 - 1;
        var gate = new long[] { B, 4, x, y, 1, 1 };
        var split = rand(gate, dtype: ScalarType.Float64);                 // share of the left edge that turns down
        var turn = rand(gate, dtype: ScalarType.Float64);                  // share of the upper edge that turns right
        bool dl = wiring is "all" or "DR", ru = wiring is "all" or "DL";
        var tensors = new Tensor?[]
        {
            randn(new long[] { B, x, y, dk, 1 }, dtype: ScalarType.Float64),
            randn(new long[] { B, x, y, dk, 1 }, dtype: ScalarType.Float64),
            randn(new long[] { B, x, y, dv, 1 }, dtype: ScalarType.Float64),
            Uniform(B, 4, x, y, 1, 1, 1), Uniform(B, 4, x, y, 1, 1, 1),
            (dl ? 1 - split : Uniform(gate) * 0.9) * Sign(gate),           // T0rl
            (ru ? 1 - turn : Uniform(gate) * 0.9) * Sign(gate),            // T0du
            dl ? split * Sign(gate) : null,                                // T0dl
            ru ? turn * Sign(gate) : null,                                 // T0ru
            Uniform(B, 4, x, y, 1, 1, 1), Uniform(B, 4, x, y, 1, 1, 1),
            Uniform(B, x, y, 1, 1, 1, 1),
        };
        return tensors.Select(t => t?.to(dtype).to(device)).ToArray();
    }
}
