using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Plstm.Interop;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// A training checkpoint: one file (a zip container, entries stored uncompressed) holding <c>model.safetensors</c>
/// (the model's <c>state_dict</c>), <c>optimizer.safetensors</c> (AdamW moments and step counts by parameter name;
/// absent in <c>best.ckpt</c>), <c>state.json</c> (<see cref="CheckpointState"/>), when given <c>config.json</c>
/// (the caller's run configuration, verbatim) and, in <c>last.ckpt</c> of a run with a weight average
/// (<see cref="ModelEma"/>), <c>online.safetensors</c>: the optimiser's own weights, while <c>model.safetensors</c>
/// holds the averaged ones — the weights to evaluate and deploy are always the model entry.
/// </summary>
/// <remarks>
/// <para>Atomic: the container is written to <c>&lt;path&gt;.tmp</c>, flushed to disk, and renamed over
/// <c>&lt;path&gt;</c>, so the file under the real name is always a complete checkpoint — the previous one until the
/// rename, the new one after. A crash leaves at most a stale <c>.tmp</c>, which loading ignores and the next save
/// overwrites.</para>
/// <para>Tensors are stored as safetensors (exact bits, CPU, the tensors' own dtypes); the model part can be
/// extracted with any zip tool and read by other safetensors readers.</para>
/// </remarks>
public static class TrainingCheckpoint
{
    /// <summary>File name of the latest checkpoint in an output folder.</summary>
    public const string LastFileName = "last.ckpt";

    /// <summary>File name of the best-validation checkpoint in an output folder.</summary>
    public const string BestFileName = "best.ckpt";

    /// <summary>
    /// The output folder of a training run (created when missing) and its <see cref="LastFileName"/> and
    /// <see cref="BestFileName"/> paths, all full paths; all null when <paramref name="outputFolder"/> is null or blank
    /// (a run that writes nothing). Shared by every trainer so they agree on where checkpoints live.
    /// </summary>
    public static (string? Folder, string? LastPath, string? BestPath) PrepareFolder(string? outputFolder)
    {
        if (string.IsNullOrWhiteSpace(outputFolder)) return (null, null, null);
        string folder = Path.GetFullPath(outputFolder);
        Directory.CreateDirectory(folder);
        return (folder, Path.Combine(folder, LastFileName), Path.Combine(folder, BestFileName));
    }

    /// <summary>Zip entry of the model state.</summary>
    public const string ModelEntry = "model.safetensors";

    /// <summary>Zip entry of the optimiser state.</summary>
    public const string OptimizerEntry = "optimizer.safetensors";

    /// <summary>Zip entry of the optimiser's own weights when the model entry holds their average (EMA).</summary>
    public const string OnlineEntry = "online.safetensors";

    /// <summary>Zip entry of the trainer state.</summary>
    public const string StateEntry = "state.json";

    /// <summary>Zip entry of the caller's run configuration.</summary>
    public const string ConfigEntry = "config.json";

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Writes a checkpoint atomically.</summary>
    /// <param name="path">Target file; its folder is created if needed.</param>
    /// <param name="model">The model (its <c>state_dict</c> is stored).</param>
    /// <param name="optimizer">The optimiser, or null for a weights-only checkpoint.</param>
    /// <param name="state">Trainer state.</param>
    /// <param name="configJson">Optional run configuration (JSON text) stored as <c>config.json</c>.</param>
    /// <param name="onlineWeights">With a weight average: the optimiser's own weights by <c>state_dict</c> name
    /// (<paramref name="model"/> then holds the average), stored as <see cref="OnlineEntry"/>; null for none.</param>
    public static void Save(string path, nn.Module model, AdamWOptimizer? optimizer, CheckpointState state,
        string? configJson = null, IReadOnlyDictionary<string, Tensor>? onlineWeights = null) =>
        Save(path, model, optimizer, state, configJson, beforeCommit: null, onlineWeights);

    /// <summary>As <see cref="Save(string, nn.Module, AdamWOptimizer?, CheckpointState, string?, IReadOnlyDictionary{string, Tensor}?)"/>,
    /// with a hook that runs after the temporary file is complete and before it is renamed (tests use it to simulate a
    /// crash).</summary>
    internal static void Save(string path, nn.Module model, AdamWOptimizer? optimizer, CheckpointState state,
        string? configJson, Action<string>? beforeCommit, IReadOnlyDictionary<string, Tensor>? onlineWeights = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        if (configJson is not null)
        {
            // Refuse malformed JSON now rather than store something nobody can read back.
            using var check = JsonDocument.Parse(configJson);
        }
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp";

        using (var scope = NewDisposeScope())
        {
            var modelState = CpuCopies(model.state_dict());
            Dictionary<string, Tensor>? online = null;
            if (onlineWeights is not null)
            {
                if (onlineWeights.Count != modelState.Count || onlineWeights.Keys.Any(k => !modelState.ContainsKey(k)))
                    throw new ArgumentException("The online weights must have the model's state_dict entries.",
                        nameof(onlineWeights));
                online = CpuCopies(onlineWeights);
            }
            var optimizerState = optimizer?.StateDict();
            try
            {
                // FileMode.Create: a stale .tmp from an earlier crash is simply overwritten.
                using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    using (var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true))
                    {
                        WriteEntry(zip, StateEntry, s => JsonSerializer.Serialize(s, state, JsonOptions));
                        if (configJson is not null)
                            WriteEntry(zip, ConfigEntry, s => s.Write(Encoding.UTF8.GetBytes(configJson)));
                        WriteEntry(zip, ModelEntry, s => Safetensors.SaveStateDict(s, modelState, leaveOpen: true));
                        if (optimizerState is not null)
                            WriteEntry(zip, OptimizerEntry, s => Safetensors.SaveStateDict(s, optimizerState, leaveOpen: true));
                        if (online is not null)
                            WriteEntry(zip, OnlineEntry, s => Safetensors.SaveStateDict(s, online, leaveOpen: true));
                    }
                    // Data on disk before the rename publishes it.
                    file.Flush(flushToDisk: true);
                }
                beforeCommit?.Invoke(temp);
                File.Move(temp, full, overwrite: true);
            }
            finally
            {
                if (optimizerState is not null) DisposeAll(optimizerState);
            }
        }
    }

    /// <summary>Reads only <c>state.json</c>.</summary>
    /// <exception cref="FileNotFoundException">No checkpoint at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a training checkpoint.</exception>
    public static CheckpointState ReadState(string path)
    {
        using var zip = Open(path);
        return ReadStateEntry(zip, path);
    }

    /// <summary>Reads <c>config.json</c>, or null when the checkpoint has none.</summary>
    public static string? ReadConfigJson(string path)
    {
        using var zip = Open(path);
        var entry = zip.GetEntry(ConfigEntry);
        if (entry is null) return null;
        using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Loads the model weights (strict: every key and shape must match; nothing is copied otherwise) and, when
    /// <paramref name="optimizer"/> is given, the optimiser state. Returns the trainer state.
    /// </summary>
    /// <exception cref="FileNotFoundException">No checkpoint at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Malformed, or it does not match the model/optimiser.</exception>
    public static CheckpointState Load(string path, nn.Module model, AdamWOptimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var zip = Open(path);
        var state = ReadStateEntry(zip, path);
        var modelState = ReadTensors(zip, ModelEntry, path);
        try
        {
            Dictionary<string, Tensor>? optimizerState = null;
            if (optimizer is not null)
                optimizerState = ReadTensors(zip, OptimizerEntry, path);
            try
            {
                // Validate both parts before changing either, so a mismatch leaves model and optimiser as they were.
                var plan = PlanModelCopy(model, modelState, path);
                optimizer?.LoadStateDict(optimizerState!);
                CopyAll(plan);
            }
            finally
            {
                if (optimizerState is not null) DisposeAll(optimizerState);
            }
        }
        finally
        {
            DisposeAll(modelState);
        }
        return state;
    }

    /// <summary>Whether the checkpoint holds the optimiser's own weights beside averaged model weights
    /// (<see cref="OnlineEntry"/>).</summary>
    public static bool HasOnlineWeights(string path)
    {
        using var zip = Open(path);
        return zip.GetEntry(OnlineEntry) is not null;
    }

    /// <summary>Loads the optimiser's own weights (<see cref="OnlineEntry"/>) into <paramref name="model"/> (strict, as
    /// <see cref="Load"/>): used when resuming a run with a weight average, after the average was read from the model
    /// entry.</summary>
    /// <exception cref="InvalidDataException">The checkpoint has no such entry, or it does not match the model.</exception>
    public static void LoadOnlineWeights(string path, nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var zip = Open(path);
        var online = ReadTensors(zip, OnlineEntry, path);
        try
        {
            CopyAll(PlanModelCopy(model, online, path));
        }
        finally
        {
            DisposeAll(online);
        }
    }

    /// <summary>Detached, contiguous CPU tensors by name (what safetensors stores), as the model checkpoint writes them
    /// (<see cref="ModelCheckpoint.StorableCopy"/>: the parameters are views of the optimiser's flat buffers).</summary>
    private static Dictionary<string, Tensor> CpuCopies(IEnumerable<KeyValuePair<string, Tensor>> tensors) =>
        tensors.ToDictionary(e => e.Key, e => ModelCheckpoint.StorableCopy(e.Value), StringComparer.Ordinal);

    /// <summary>Runs a copy plan of <see cref="PlanModelCopy"/> (already validated) without recording gradients.</summary>
    private static void CopyAll(List<(Tensor Destination, Tensor Source)> plan)
    {
        using var noGrad = no_grad();
        foreach (var (destination, source) in plan) destination.copy_(source);
    }

    private static void DisposeAll(Dictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
    }

    private static ZipArchive Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        var file = File.OpenRead(path);
        try
        {
            return new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (InvalidDataException ex)
        {
            file.Dispose();
            throw new InvalidDataException($"'{path}' is not a training checkpoint (not a zip container): {ex.Message}", ex);
        }
    }

    private static void WriteEntry(ZipArchive zip, string name, Action<Stream> write)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using var stream = entry.Open();
        write(stream);
    }

    private static CheckpointState ReadStateEntry(ZipArchive zip, string path)
    {
        var entry = zip.GetEntry(StateEntry)
            ?? throw new InvalidDataException($"Checkpoint '{path}' has no {StateEntry}.");
        using var stream = entry.Open();
        CheckpointState? state;
        try
        {
            state = JsonSerializer.Deserialize<CheckpointState>(stream, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Checkpoint '{path}': {StateEntry} is malformed: {ex.Message}", ex);
        }
        if (state is null || state.Format != CheckpointState.FormatName)
            throw new InvalidDataException($"Checkpoint '{path}': {StateEntry} is not a {CheckpointState.FormatName} state.");
        if (state.Version > CheckpointState.CurrentVersion)
            throw new InvalidDataException(
                $"Checkpoint '{path}' has format version {state.Version}; this library reads up to {CheckpointState.CurrentVersion}.");
        return state;
    }

    private static Dictionary<string, Tensor> ReadTensors(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"Checkpoint '{path}' has no {name}.");
        // Zip entry streams cannot seek, which the safetensors reader needs: go through memory.
        using var buffer = new MemoryStream();
        using (var stream = entry.Open()) stream.CopyTo(buffer);
        buffer.Position = 0;
        try
        {
            return Safetensors.LoadStateDict(buffer, leaveOpen: true);
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or InvalidDataException))
        {
            throw new InvalidDataException($"Checkpoint '{path}': cannot read {name}: {ex.Message}", ex);
        }
    }

    private static List<(Tensor Destination, Tensor Source)> PlanModelCopy(nn.Module model,
        Dictionary<string, Tensor> stored, string path)
    {
        var target = model.state_dict();
        var missing = target.Keys.Where(k => !stored.ContainsKey(k)).ToList();
        var unexpected = stored.Keys.Where(k => !target.ContainsKey(k)).ToList();
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"missing [{string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", …" : "")}]");
        if (unexpected.Count > 0) problems.Add($"unexpected [{string.Join(", ", unexpected.Take(8))}{(unexpected.Count > 8 ? ", …" : "")}]");
        var plan = new List<(Tensor, Tensor)>();
        foreach (var (key, destination) in target)
        {
            if (!stored.TryGetValue(key, out var source)) continue;
            if (!source.shape.SequenceEqual(destination.shape))
                problems.Add($"'{key}' has shape [{string.Join(", ", source.shape)}], the model [{string.Join(", ", destination.shape)}]");
            else if (source.dtype != destination.dtype)
                problems.Add($"'{key}' has dtype {source.dtype}, the model {destination.dtype}");
            else
                plan.Add((destination, source));
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"Checkpoint '{path}' does not match the model: {string.Join("; ", problems)}.");
        return plan;
    }
}
