using System.Runtime.CompilerServices;
using System.Text.Json;
using Plstm.Interop;
using Plstm.Models;
using Plstm.Tests.Support;

namespace Plstm.Tests.Interop;

/// <summary>
/// State dicts written by PyTorch itself (<c>torch.save</c>, by <c>Data/make_reference_fixtures.py</c>) with keys and
/// shapes spelled out from the reference modules load strictly into Plstm models, and the small ViT reproduces the
/// logits that script computed with the reference's forward pass.
/// </summary>
public class ReferenceFixtureTests
{
    private static readonly VitConfig SmallVit = new()
    {
        Dim = 16, NumHeads = 2, NumBlocks = 1, PatchSize = 4, ImageSize = 8, NumClasses = 3,
    };

    private static readonly PlstmVisionConfig SmallPlstm = new()
    {
        Dim = 16, NumHeads = 2, NumBlocks = 1, PatchSize = 4, ImageSize = 8, NumClasses = 3,
    };

    private static string DataFile(string name, [CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Data", name);

    /// <summary>The script's values: key k (sorted order), flat index i: base = sin(0.37·i + 0.5·k), then
    /// 1 + 0.1·base for keys ending in "scale", else 0.05·base; float32.</summary>
    private static void AssertScriptValues(IReadOnlyDictionary<string, Tensor> state)
    {
        var order = state.Keys.OrderBy(k => k, StringComparer.Ordinal).Select((k, i) => (k, i)).ToDictionary(t => t.k, t => t.i);
        foreach (var (key, value) in state)
        {
            using var scope = NewDisposeScope();
            var i = arange(value.numel(), dtype: float64);
            var b = (0.37 * i + 0.5 * order[key]).sin();
            var expected = (key.EndsWith("scale", StringComparison.Ordinal) ? 1.0 + 0.1 * b : 0.05 * b)
                .reshape(value.shape).to(float32);
            TensorAssert.AssertClose(value, expected, key, 0, 1e-7);
        }
    }

    [SkippableFact]
    public void Torch_saved_vit_state_loads_strictly_and_reproduces_reference_logits()
    {
        string path = DataFile("vit_small_reference.pth");
        Skip.IfNot(File.Exists(path), $"fixture {path} not found (tests run outside the source tree)");
        using var scope = NewDisposeScope();
        using var model = new VisionTransformer(SmallVit);
        ModelCheckpoint.Load(model, path);
        AssertScriptValues(model.state_dict());

        using var json = JsonDocument.Parse(File.ReadAllText(DataFile("vit_small_reference.json")));
        Tensor Read(string name) => tensor(
            json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            json.RootElement.GetProperty(name + "_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
            dtype: float64);
        model.to(float64);
        model.eval();
        using (no_grad())
            TensorAssert.AssertClose(model.forward(Read("images")), Read("logits"), "logits vs reference forward",
                1e-9, 1e-12);
    }

    [SkippableFact]
    public void Torch_saved_plstm_state_loads_strictly()
    {
        string path = DataFile("plstm_small_reference.pth");
        Skip.IfNot(File.Exists(path), $"fixture {path} not found (tests run outside the source tree)");
        using var scope = NewDisposeScope();
        using var model = new PlstmVisionModel(SmallPlstm);
        ModelCheckpoint.Load(model, path);
        AssertScriptValues(model.state_dict());
        model.eval();
        using (no_grad())
        {
            var logits = model.forward(randn(2, 8, 12, 3));
            Assert.Equal(new long[] { 2, 3 }, logits.shape);
            Assert.True(logits.isfinite().all().item<bool>());
        }
    }
}
