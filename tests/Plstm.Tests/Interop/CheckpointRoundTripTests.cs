using Plstm.Tests.Support;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Plstm.Interop;
using Plstm.Models;
using Plstm.Tests.Models;
using Plstm.Training;

namespace Plstm.Tests.Interop;

/// <summary>Save → load round trips through both formats reproduce a model exactly.</summary>
public class CheckpointRoundTripTests
{
    public static TheoryData<string, CheckpointFormat, string> Cases() => new()
    {
        { "plstm_vit_tiny", CheckpointFormat.Safetensors, "model.safetensors" },
        { "plstm_vit_tiny", CheckpointFormat.PyTorch, "model.pth" },
        { "vit_tiny", CheckpointFormat.Safetensors, "model.safetensors" },
        { "vit_tiny", CheckpointFormat.PyTorch, "model.pth" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Round_trip_gives_identical_outputs(string preset, CheckpointFormat format, string fileName)
    {
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        manual_seed(41);
        using var source = ModelRegistry.Create(preset);
        manual_seed(42);
        using var target = ModelRegistry.Create(preset);
        source.eval();
        target.eval();
        var images = randn(2, 32, 32, 3);
        using var noGrad = no_grad();
        var expected = source.forward(images);
        Assert.False(expected.SameAs(target.forward(images)), "differently seeded models should differ before loading");

        string path = folder.File(fileName);
        ModelCheckpoint.Save(source, path);              // format from the extension
        ModelCheckpoint.Load(target, path, format);      // format given explicitly

        Assert.True(expected.SameAs(target.forward(images)), "outputs differ after the round trip");
        var sourceState = source.state_dict();
        foreach (var (key, value) in target.state_dict())
            Assert.True(value.SameAs(sourceState[key]), $"{key} differs after the round trip");
        Assert.Equal(new[] { fileName }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    /// <summary>After <see cref="AdamWOptimizer"/> is created, every parameter is a view into its group's flat buffer
    /// (most at an offset). A checkpoint must still hold each parameter's own bytes — not the whole buffer per
    /// parameter — and read back exactly; the <c>.pth</c> writer needs a copy of the views at an offset
    /// (<see cref="ModelCheckpoint.StorableCopy"/>), without which the file cannot be read at all.</summary>
    [Theory]
    [InlineData(CheckpointFormat.Safetensors, "model.safetensors")]
    [InlineData(CheckpointFormat.PyTorch, "model.pth")]
    public void Parameters_that_view_the_optimizers_buffer_are_saved_as_their_own_bytes(CheckpointFormat format, string fileName)
    {
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        manual_seed(44);
        using var source = ModelRegistry.Create("plstm_vit_tiny");
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(source), 0.05);
        Assert.Contains(source.parameters(), p => p.storage_offset() > 0);
        long buffer = Enumerable.Range(0, optimizer.BucketCount).Max(b => optimizer.BucketValues(b).numel()) * 4;
        var state = source.state_dict();
        long own = state.Values.Sum(t => t.numel() * t.ElementSize);
        Assert.True(buffer > own / 4, "the test needs a buffer comparable to the model");

        string path = folder.File(fileName);
        ModelCheckpoint.Save(source, path, format);
        long size = new FileInfo(path).Length;
        // Names, header, pickle and zip records: well under 1 KiB per entry; one extra buffer would be 'buffer' bytes.
        // (PyBridge's .pth zip deflates its records, so random floats may come out a little smaller than their bytes.)
        Assert.True(size < own + 1024L * state.Count, $"{fileName}: {size} bytes for {own} bytes of tensors");

        manual_seed(45);
        using var target = ModelRegistry.Create("plstm_vit_tiny");
        ModelCheckpoint.Load(target, path, format);
        var loaded = target.state_dict();
        foreach (var (key, value) in state)
            Assert.True(loaded[key].SameAs(value), $"{key} differs after the round trip");
    }

    [Fact]
    public void Safetensors_file_has_a_standard_header_with_reference_names()
    {
        using var folder = new TempFolder();
        using var model = ModelRegistry.Create("vit_tiny");
        string path = folder.File("vit.safetensors");
        ModelCheckpoint.Save(model, path);

        var bytes = File.ReadAllBytes(path);
        ulong headerLength = BitConverter.ToUInt64(bytes, 0);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        var entries = header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__").ToList();
        var state = model.state_dict();
        Assert.Equal(state.Keys.OrderBy(k => k, StringComparer.Ordinal),
            entries.Select(e => e.Name).OrderBy(k => k, StringComparer.Ordinal));
        long dataBytes = 0;
        foreach (var entry in entries)
        {
            Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
            Assert.Equal(state[entry.Name].shape, entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(state[entry.Name].numel() * 4, offsets[1] - offsets[0]);
            dataBytes += offsets[1] - offsets[0];
        }
        Assert.Equal(bytes.LongLength, 8 + (long)headerLength + dataBytes);
        Assert.Contains(entries, e => e.Name == "cls_token");
    }

    [Fact]
    public void Pytorch_file_is_a_torch_save_zip_archive()
    {
        using var folder = new TempFolder();
        using var model = ModelRegistry.Create("plstm_vit_tiny");
        string path = folder.File("plstm.pth");
        ModelCheckpoint.Save(model, path);
        using var archive = ZipFile.OpenRead(path);
        Assert.Contains(archive.Entries, e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal));
        Assert.Contains(archive.Entries, e => e.FullName.EndsWith("/version", StringComparison.Ordinal));
        using var scope = NewDisposeScope();
        var stored = ModelCheckpoint.ReadStateDict(path);
        Assert.Equal(model.state_dict().Count, stored.Count);
        Assert.Equal(new long[] { 1, 4, 4, 64 }, stored["pos_embed.embed"].shape);
    }

    [Fact]
    public void Saving_over_an_existing_file_replaces_it()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        File.WriteAllText(path, "old content");
        using var model = ModelRegistry.Create("vit_tiny");
        ModelCheckpoint.Save(model, path);
        using var scope = NewDisposeScope();
        Assert.Equal(model.state_dict().Count, ModelCheckpoint.ReadStateDict(path).Count);
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void A_failed_write_leaves_the_old_file_and_no_temporary()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        File.WriteAllText(path, "old content");
        using var scope = NewDisposeScope();
        // safetensors has no complex dtype: the writer fails half way.
        var state = new Dictionary<string, Tensor> { ["a"] = ones(2), ["b"] = ones(2, dtype: complex64) };
        Assert.ThrowsAny<Exception>(() => ModelCheckpoint.WriteStateDict(state, path));
        Assert.Equal("old content", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Bfloat16_checkpoint_loads_into_a_float32_model()
    {
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        manual_seed(43);
        using var source = ModelRegistry.Create("vit_tiny");
        var half = source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(bfloat16));
        string path = folder.File("half.safetensors");
        ModelCheckpoint.WriteStateDict(half, path);
        using var target = ModelRegistry.Create("vit_tiny");
        ModelCheckpoint.Load(target, path);
        var loaded = target.state_dict();
        foreach (var (key, value) in half)
        {
            Assert.Equal(ScalarType.Float32, loaded[key].dtype);
            Assert.True(loaded[key].SameAs(value.to(float32)), $"{key} differs");
        }
    }

    [Fact]
    public void Unknown_extension_needs_an_explicit_format()
    {
        using var folder = new TempFolder();
        using var model = ModelRegistry.Create("vit_tiny");
        var ex = Assert.Throws<ArgumentException>(() => ModelCheckpoint.Save(model, folder.File("model.weights")));
        Assert.Contains(".weights", ex.Message);
        ModelCheckpoint.Save(model, folder.File("model.weights"), CheckpointFormat.PyTorch);
        ModelCheckpoint.Load(model, folder.File("model.weights"), CheckpointFormat.PyTorch);
        Assert.Equal(CheckpointFormat.PyTorch, CheckpointFormats.FromPath("x.PT"));
        Assert.Equal(CheckpointFormat.Safetensors, CheckpointFormats.FromPath("dir/x.safetensors"));
    }

    [Fact]
    public void Missing_file_is_reported()
    {
        using var folder = new TempFolder();
        using var model = ModelRegistry.Create("vit_tiny");
        Assert.Throws<FileNotFoundException>(() => ModelCheckpoint.Load(model, folder.File("absent.pth")));
    }
}
