using System.Collections;
using Plstm.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Plstm.Interop;

/// <summary>
/// Saves and loads a module's state (<c>state_dict</c>: parameters and persistent buffers by dotted name) as
/// safetensors or as a PyTorch <c>torch.save</c> file, through TorchSharp.PyBridge. Names and shapes are the
/// reference's (<c>docs/interop.md</c>), so a reference checkpoint maps one to one and a file written here loads into
/// the reference with <c>load_state_dict(strict=True)</c>.
/// </summary>
/// <remarks>
/// Writes are atomic: the file is written to a temporary name in the same folder, flushed to disk and then renamed
/// over the target, so a crash never leaves a half-written checkpoint under the real name. Loads are strict by default
/// (<see cref="CheckpointLoadOptions"/>): a missing, unexpected or mis-shaped key fails with a
/// <see cref="CheckpointMismatchException"/> naming it, and nothing is copied into the model unless every check
/// passes. Stored dtypes are converted to the model's (e.g. a bfloat16 checkpoint into a float32 model).
/// </remarks>
public static class ModelCheckpoint
{
    /// <summary>Reference name of the positional embedding (see <see cref="CheckpointLoadOptions.ResizePositionEmbedding"/>).</summary>
    public const string PositionEmbeddingKey = "pos_embed.embed";

    /// <summary>Writes <paramref name="module"/>'s state to <paramref name="path"/> atomically.</summary>
    /// <param name="module">The model.</param>
    /// <param name="path">Target file; its folder must exist.</param>
    /// <param name="format">The format; null infers it from the extension (<see cref="CheckpointFormats.FromPath"/>).</param>
    public static void Save(nn.Module module, string path, CheckpointFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = NewDisposeScope();
        WriteStateDict(module.state_dict(), path, format);
    }

    /// <summary>
    /// Writes a state map atomically. Tensors are stored detached, on the CPU, contiguous, with their own dtype.
    /// </summary>
    public static void WriteStateDict(IReadOnlyDictionary<string, Tensor> stateDict, string path,
        CheckpointFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(path);
        var chosen = format ?? CheckpointFormats.FromPath(path);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot write checkpoint '{path}': folder '{folder}' does not exist.");

        using var scope = NewDisposeScope();
        // Insertion order is kept, so the file lists tensors in the module's registration order.
        var cpu = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in stateDict)
            cpu[key] = StorableCopy(tensor);

        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                if (chosen == CheckpointFormat.Safetensors)
                    Safetensors.SaveStateDict(stream, cpu, leaveOpen: true);
                else
                    PyTorchPickler.PickleStateDict(stream, cpu, leaveOpen: true);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// <paramref name="tensor"/> detached, on the CPU and contiguous, as the checkpoint writers take it: the tensor
    /// itself where it already is all that (a CPU model), a copy otherwise, and a copy too where it is a view at an
    /// offset into a larger storage — <see cref="Plstm.Training.AdamWOptimizer"/> keeps every parameter as such a view
    /// of one flat buffer per group. TorchSharp.PyBridge's <c>.pth</c> writer stores a view's own bytes as its storage
    /// but keeps the view's storage offset, so the file could not be read back (by PyBridge or PyTorch: "out of bounds
    /// for storage"); its safetensors writer stores the view's bytes alone. Neither writes the rest of the storage, so a
    /// view at offset 0 is written as it is (the checkpoint tests check the file sizes and the round trip).
    /// </summary>
    internal static Tensor StorableCopy(Tensor tensor)
    {
        var cpu = tensor.detach().cpu().contiguous();
        return cpu.storage_offset() == 0 ? cpu : cpu.clone();
    }

    /// <summary>
    /// Reads the stored state map of <paramref name="path"/>. The caller owns (and should dispose) the tensors.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a flat name → tensor map of the given format.</exception>
    public static Dictionary<string, Tensor> ReadStateDict(string path, CheckpointFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        var chosen = format ?? CheckpointFormats.FromPath(path);
        try
        {
            if (chosen == CheckpointFormat.Safetensors)
            {
                using var stream = File.OpenRead(path);
                return Safetensors.LoadStateDict(stream, leaveOpen: true);
            }
            else
            {
                using var stream = File.OpenRead(path);
                var table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
                return ToTensorMap(table, path);
            }
        }
        catch (Exception ex) when (ex is not (InvalidDataException or IOException or UnauthorizedAccessException))
        {
            throw new InvalidDataException($"Cannot read '{path}' as a {chosen} checkpoint: {ex.Message}", ex);
        }
    }

    /// <summary>Reads <paramref name="path"/> and copies it into <paramref name="module"/> (strict by default).</summary>
    /// <exception cref="CheckpointMismatchException">Keys or shapes do not match; the model is left unchanged.</exception>
    public static void Load(nn.Module module, string path, CheckpointFormat? format = null,
        CheckpointLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var stored = ReadStateDict(path, format);
        try
        {
            LoadStateDict(module, stored, options, $"'{path}'");
        }
        finally
        {
            foreach (var t in stored.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Copies a state map into <paramref name="module"/> after checking every key and shape first (see
    /// <see cref="CheckpointLoadOptions"/>). The map's tensors are not consumed.
    /// </summary>
    /// <param name="module">The model.</param>
    /// <param name="stateDict">Name → tensor, reference names.</param>
    /// <param name="options">Strictness and fix-ups; null for <see cref="CheckpointLoadOptions.Default"/>.</param>
    /// <param name="source">How the source is named in error messages.</param>
    /// <exception cref="CheckpointMismatchException">Keys or shapes do not match; the model is left unchanged.</exception>
    public static void LoadStateDict(nn.Module module, IReadOnlyDictionary<string, Tensor> stateDict,
        CheckpointLoadOptions? options = null, string source = "state")
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stateDict);
        options ??= CheckpointLoadOptions.Default;
        using var scope = NewDisposeScope();

        var stored = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in stateDict)
        {
            string name = StripPrefix(key, options.StripPrefixes);
            if (!stored.TryAdd(name, tensor))
                throw new InvalidDataException($"Checkpoint {source} holds key '{name}' twice (after stripping prefixes).");
        }

        var target = module.state_dict();
        var missing = target.Keys.Where(k => !stored.ContainsKey(k)).ToList();
        var unexpected = stored.Keys.Where(k => !target.ContainsKey(k)).ToList();
        var mismatches = new List<ShapeMismatch>();
        var plan = new List<(Tensor Destination, Tensor Source)>();
        foreach (var (key, destination) in target)
        {
            if (!stored.TryGetValue(key, out var value)) continue;
            if (!value.shape.SequenceEqual(destination.shape) && key == PositionEmbeddingKey
                && options.ResizePositionEmbedding && value.ndim == 4 && destination.ndim == 4
                && value.shape[0] == 1 && value.shape[3] == destination.shape[3])
                value = PositionEmbedding2D.Resize(value.to_type(ScalarType.Float32),
                    destination.shape[1], destination.shape[2]);
            if (!value.shape.SequenceEqual(destination.shape))
                mismatches.Add(new ShapeMismatch(key, value.shape, destination.shape));
            else
                plan.Add((destination, value));
        }

        if (mismatches.Count > 0 || (options.Strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new CheckpointMismatchException(source, missing, unexpected, mismatches);

        using var noGrad = no_grad();
        foreach (var (destination, value) in plan)
            destination.copy_(value.to(destination.device));
    }

    private static string StripPrefix(string key, IReadOnlyList<string> prefixes)
    {
        foreach (var prefix in prefixes)
            if (prefix.Length > 0 && key.StartsWith(prefix, StringComparison.Ordinal))
                return key[prefix.Length..];
        return key;
    }

    private static Dictionary<string, Tensor> ToTensorMap(Hashtable table, string path)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var notTensors = new List<string>();
        foreach (DictionaryEntry entry in table)
        {
            string key = entry.Key as string
                ?? throw new InvalidDataException($"'{path}' is not a state_dict: it has a non-string key '{entry.Key}'.");
            if (entry.Value is Tensor tensor)
                result[key] = tensor;
            else
                notTensors.Add(key);
        }
        if (notTensors.Count > 0)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new InvalidDataException(
                $"'{path}' is not a flat state_dict: entries {string.Join(", ", notTensors.Take(10).Select(k => $"'{k}'"))} "
                + "are not tensors. Save model.state_dict() itself, e.g. torch.save(model.state_dict(), path).");
        }
        return result;
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path)) File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the temporary name is unique and hidden, a leftover harms nothing.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
