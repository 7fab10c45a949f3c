using System.Text.Json;
using Plstm.Ops.OneD;
using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Golden;

/// <summary>
/// Runs every golden file (see <see cref="GoldenCases"/>) through every exact form of its operator, in float64 (the
/// file's own tolerance) and in float32 (inputs cast to float32, compared with the float32 rule against the float64
/// expected values). Forward outputs and, where the file has an upstream gradient, every input gradient are checked.
/// </summary>
[Trait("Category", "Golden")]
public sealed class GoldenOperatorTests
{
    /// <summary>Kinds whose operators are not implemented yet: skipped with a reason. Any other unknown kind fails.</summary>
    private static readonly IReadOnlyDictionary<string, string> PendingKinds = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["graph_edgewise"] = "graph operators land with the graph issue",
        ["graph_nodewise"] = "graph operators land with the graph issue",
        ["graph_prepare"] = "graph operators land with the graph issue",
    };

    /// <summary>Minimum number of bundled files per implemented kind (31 in all).</summary>
    private static readonly IReadOnlyDictionary<string, int> BundledMinimum = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["plstm1d"] = 9,
        ["plstm2d"] = 20,
        ["plstm2d_fused"] = 2,
    };

    /// <summary>Every golden case except the layer files, which <c>Layers/LayerGoldenTests</c> runs through the layer.</summary>
    public static TheoryData<string> Cases => GoldenCases.AllExcept("plstm2d_layer");

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Float64(string golden) => Run(golden, ScalarType.Float64);

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Float32(string golden) => Run(golden, ScalarType.Float32);

    [Fact]
    public void BundledFolderHoldsAllOperatorFiles()
    {
        var dir = GoldenCases.BundledDirectory;
        Assert.True(Directory.Exists(dir), $"Bundled golden folder {dir} is missing (the csproj should copy Golden/Data/*.json).");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir, "*.json"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            var kind = doc.RootElement.TryGetProperty("kind", out var k) ? k.GetString() ?? "?" : "?";
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }
        string summary = string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        foreach (var (kind, minimum) in BundledMinimum)
            Assert.True(counts.GetValueOrDefault(kind) >= minimum,
                $"Bundled golden folder {dir} holds {counts.GetValueOrDefault(kind)} '{kind}' files, expected at least {minimum} (found: {summary}).");
        int total = BundledMinimum.Keys.Sum(k => counts.GetValueOrDefault(k));
        Assert.True(total >= 31, $"Expected at least 31 1D/2D/fused golden files in {dir}, found {total} ({summary}).");
    }

    private static void Run(string id, ScalarType dtype)
    {
        var golden = GoldenCases.Load(id);
        if (PendingKinds.TryGetValue(golden.Kind, out var reason))
            Skip.If(true, $"{golden.Name}: kind '{golden.Kind}' skipped: {reason}.");
        var spec = KindSpec.For(golden.Kind)
            ?? throw new Xunit.Sdk.XunitException(
                $"{id}: unknown golden kind '{golden.Kind}' — the harness has no runner for it (known: plstm1d, plstm2d, plstm2d_fused; pending: {string.Join(", ", PendingKinds.Keys)}).");

        using var scope = NewDisposeScope();
        var failures = new List<string>();
        failures.AddRange(spec.CheckFile(golden));
        if (failures.Count == 0)
            foreach (var form in spec.Forms(golden))
                failures.AddRange(RunForm(golden, form, dtype));
        if (failures.Count > 0)
            Assert.Fail($"{id} ({golden.Kind}, {dtype}): {failures.Count} failure(s):\n" + string.Join("\n", failures));
    }

    /// <summary>Runs one form on fresh inputs; returns the failure messages (empty when everything matches).</summary>
    private static List<string> RunForm(GoldenCase golden, OperatorForm form, ScalarType dtype)
    {
        var failures = new List<string>();
        bool withGradients = golden.Upstream is not null && golden.Gradients.Count > 0;
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in golden.Inputs)
        {
            var t = golden.GetTensor(name);
            if (t.is_floating_point())
            {
                t = t.to(dtype);
                if (withGradients) t = t.detach().requires_grad_(true);
            }
            inputs[name] = t;
        }

        string tag = $"[{form.Name}, {dtype}]";
        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = form.Run(inputs);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            failures.Add($"{tag} threw {ex}");
            return failures;
        }

        foreach (var name in golden.Outputs)
        {
            if (!outputs.TryGetValue(name, out var actual))
                failures.Add($"{tag} produces no output '{name}'.");
            else
                AddIfFailed(failures, Compare(actual, golden.GetTensor(name), $"{tag} {name}", golden.Tolerance, dtype));
        }
        if (!withGradients) return failures;

        var target = UpstreamTarget(golden);
        if (target is null)
        {
            failures.Add($"{tag} cannot tell which output upstream '{golden.Upstream}' applies to (outputs: {string.Join(", ", golden.Outputs)}).");
            return failures;
        }
        if (!outputs.TryGetValue(target, out var y))
        {
            failures.Add($"{tag} produces no output '{target}' for the gradient check.");
            return failures;
        }
        var upstream = golden.GetTensor(golden.Upstream!).to(dtype);
        var loss = (y * upstream).sum();
        try
        {
            loss.backward(retain_graph: false);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            failures.Add($"{tag} backward threw {ex}");
            return failures;
        }
        foreach (var gradName in golden.Gradients)
        {
            var inputName = gradName.StartsWith('d') ? gradName[1..] : "";
            if (!inputs.TryGetValue(inputName, out var input))
            {
                failures.Add($"{tag} gradient '{gradName}' names no input (expected 'd' + one of {string.Join(", ", golden.Inputs)}).");
                continue;
            }
            var grad = input.grad ?? zeros_like(input);   // no gradient reached it: ∂loss/∂input = 0
            AddIfFailed(failures, Compare(grad, golden.GetTensor(gradName), $"{tag} {gradName}", golden.Tolerance, dtype));
        }
        return failures;
    }

    /// <summary>The output the upstream gradient belongs to: <c>dX</c> ↔ output <c>X</c>, else the only output.</summary>
    private static string? UpstreamTarget(GoldenCase golden)
    {
        var up = golden.Upstream!;
        if (up.StartsWith('d') && golden.Outputs.Contains(up[1..])) return up[1..];
        return golden.Outputs.Count == 1 ? golden.Outputs[0] : null;
    }

    private static string? Compare(Tensor actual, Tensor expected, string what, GoldenTolerance tolerance, ScalarType dtype) =>
        dtype == ScalarType.Float64
            ? TensorAssert.Compare(actual, expected, what, tolerance.Rtol, tolerance.Atol)
            : TensorAssert.CompareFloat32(actual, expected, what);

    private static void AddIfFailed(List<string> failures, string? failure)
    {
        if (failure is not null) failures.Add(failure);
    }

    /// <summary>One exact form of an operator: maps named input tensors to named output tensors (golden names).</summary>
    private sealed record OperatorForm(string Name, Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> Run);

    /// <summary>How the harness maps one kind: the array names it understands and the forms it runs.</summary>
    private sealed record KindSpec(
        string Kind, string[] KnownInputs, string[] KnownOutputs, Func<GoldenCase, IEnumerable<OperatorForm>> Forms)
    {
        private static readonly string[] Gates2D =
            ["Q", "K", "V", "S0_r", "S0_d", "T0_rl", "T0_du", "T0_dl", "T0_ru", "M0_l", "M0_u", "D0"];

        public static KindSpec? For(string kind) => kind switch
        {
            "plstm1d" => new(kind, ["Q", "K", "V", "S0", "T0", "M0", "D0", "C_initial"], ["Y", "C_last"], Forms1D),
            "plstm2d" => new(kind, [.. Gates2D, "C_initial_left", "C_initial_top"], ["Y", "C_last_right", "C_last_bottom"], Forms2D),
            "plstm2d_fused" => new(kind, Gates2D, ["Y"], FormsFused),
            _ => null,
        };

        /// <summary>Format checks before running: every listed array is one the harness maps, has_T_* agree with the arrays.</summary>
        public IEnumerable<string> CheckFile(GoldenCase golden)
        {
            foreach (var name in golden.Inputs.Where(n => !KnownInputs.Contains(n)))
                yield return $"input '{name}' is not mapped by the {Kind} harness (known: {string.Join(", ", KnownInputs)}).";
            foreach (var name in golden.Outputs.Where(n => !KnownOutputs.Contains(n)))
                yield return $"output '{name}' is not mapped by the {Kind} harness (known: {string.Join(", ", KnownOutputs)}).";
            foreach (var (flag, array) in new[] { ("has_T_dl", "T0_dl"), ("has_T_ru", "T0_ru") })
            {
                var declared = golden.OptionalParamBool(flag);
                if (declared is bool d && d != golden.Inputs.Contains(array))
                    yield return $"params.{flag} = {d}, but input '{array}' is {(golden.Inputs.Contains(array) ? "present" : "absent")}.";
            }
            if (golden.Kind != "plstm1d" && golden.Inputs.Contains("C_initial_left") != golden.Inputs.Contains("C_initial_top"))
                yield return "C_initial_left and C_initial_top must be given together.";
        }

        private static IEnumerable<OperatorForm> Forms1D(GoldenCase golden)
        {
            int levels = golden.ParamInt("levels");
            double? scale = golden.OptionalParamDouble("QK_scale");
            static Plstm1DInputs In(IReadOnlyDictionary<string, Tensor> t) =>
                new(Req(t, "Q"), Req(t, "K"), Req(t, "V"), Req(t, "S0"), Req(t, "T0"), Req(t, "M0"), Req(t, "D0"), Opt(t, "C_initial"));
            static IReadOnlyDictionary<string, Tensor> Out(Plstm1DOutput o) =>
                new Dictionary<string, Tensor> { ["Y"] = o.Y, ["C_last"] = o.CLast };
            yield return new($"Plstm1DChunked levels={levels}", t => Out(Plstm1DChunked.Forward(In(t), levels, scale)));
            yield return new("Plstm1DNaive", t => Out(Plstm1DNaive.Forward(In(t), scale)));
        }

        private static IEnumerable<OperatorForm> Forms2D(GoldenCase golden)
        {
            int levels = golden.ParamInt("levels");
            double? scale = golden.OptionalParamDouble("QK_scale");
            static Plstm2DInputs In(IReadOnlyDictionary<string, Tensor> t) =>
                new(Req(t, "Q"), Req(t, "K"), Req(t, "V"), Req(t, "S0_r"), Req(t, "S0_d"),
                    Req(t, "T0_rl"), Req(t, "T0_du"), Opt(t, "T0_dl"), Opt(t, "T0_ru"),
                    Req(t, "M0_l"), Req(t, "M0_u"), Req(t, "D0"), Opt(t, "C_initial_left"), Opt(t, "C_initial_top"));
            static IReadOnlyDictionary<string, Tensor> Out(Plstm2DOutput o) =>
                new Dictionary<string, Tensor> { ["Y"] = o.Y, ["C_last_right"] = o.FinalRight, ["C_last_bottom"] = o.FinalBottom };
            yield return new($"Plstm2DHierarchical levels={levels}", t => Out(Plstm2DHierarchical.Forward(In(t), levels, scale)));
            yield return new("Plstm2DNaive", t => Out(Plstm2DNaive.Forward(In(t), scale)));
        }

        private static IEnumerable<OperatorForm> FormsFused(GoldenCase golden)
        {
            int levels = golden.ParamInt("levels");
            double? scale = golden.OptionalParamDouble("QK_scale");
            static Plstm2DFusedInputs In(IReadOnlyDictionary<string, Tensor> t) =>
                new(Req(t, "Q"), Req(t, "K"), Req(t, "V"), Req(t, "S0_r"), Req(t, "S0_d"),
                    Req(t, "T0_rl"), Req(t, "T0_du"), Opt(t, "T0_dl"), Opt(t, "T0_ru"),
                    Req(t, "M0_l"), Req(t, "M0_u"), Req(t, "D0"));
            foreach (var form in new[] { Plstm2DForm.Hierarchical, Plstm2DForm.Naive })
                yield return new($"Plstm2DFused {form} levels={levels}",
                    t => new Dictionary<string, Tensor> { ["Y"] = Plstm2DFused.Forward(In(t), levels, scale: scale, form: form) });
        }

        private static Tensor Req(IReadOnlyDictionary<string, Tensor> t, string name) =>
            t.TryGetValue(name, out var v) ? v : throw new InvalidDataException($"required input '{name}' is missing from the file.");

        private static Tensor? Opt(IReadOnlyDictionary<string, Tensor> t, string name) => t.GetValueOrDefault(name);
    }
}
