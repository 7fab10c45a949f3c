using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Plstm.Cli.Training;

/// <summary>
/// The settings of <c>plstm train</c>, every one optional: read from a <c>--config</c> file (JSON or YAML, keys as the
/// long option names with <c>-</c> or <c>_</c>: <c>batch_size</c>, <c>batch-size</c>) and from the command line, which
/// wins (<see cref="Overlay"/>). Unset values fall back to the experiment's.
/// </summary>
public sealed class TrainSettings
{
    /// <summary>Experiment name (<c>ape-small</c>, …).</summary>
    public string? Experiment { get; set; }

    /// <summary>Model preset of a custom run.</summary>
    public string? Preset { get; set; }

    /// <summary><c>arrows</c>, <c>fashion-mnist</c> or a folder.</summary>
    public string? Data { get; set; }

    /// <summary>Folder of the Fashion-MNIST IDX files.</summary>
    public string? DataDir { get; set; }

    /// <summary>Optimiser steps per model.</summary>
    public long? Steps { get; set; }

    /// <summary>Training batch size.</summary>
    public int? BatchSize { get; set; }

    /// <summary>Evaluation batch size.</summary>
    public int? EvalBatchSize { get; set; }

    /// <summary>Peak learning rate of every model.</summary>
    public double? Lr { get; set; }

    /// <summary>Warm-up steps.</summary>
    public long? Warmup { get; set; }

    /// <summary>Weight decay.</summary>
    public double? WeightDecay { get; set; }

    /// <summary>Gradient clipping norm (0 = off).</summary>
    public double? Clip { get; set; }

    /// <summary>Label smoothing ε in [0, 1).</summary>
    public double? LabelSmoothing { get; set; }

    /// <summary>Random-crop padding in pixels (0 = off).</summary>
    public int? RandomCrop { get; set; }

    /// <summary>Horizontal-flip probability in [0, 1] (0 = off).</summary>
    public double? HorizontalFlip { get; set; }

    /// <summary>Decay of the weight average in [0, 1) (0 = off).</summary>
    public double? EmaDecay { get; set; }

    /// <summary>Test-time augmentation of a second set of tests: none, flips or d4.</summary>
    public string? Tta { get; set; }

    /// <summary>Symmetry-curriculum threshold in [0, 1] (arrows; 0 = off).</summary>
    public double? SymmetryCurriculum { get; set; }

    /// <summary>Steps per window of the symmetry curriculum.</summary>
    public int? CurriculumWindow { get; set; }

    /// <summary>Arrow input: <c>ink</c> (background 0) or <c>imagenet</c> (the paper's statistics).</summary>
    public string? ArrowInput { get; set; }

    /// <summary>Run seed.</summary>
    public long? Seed { get; set; }

    /// <summary>Device.</summary>
    public string? Device { get; set; }

    /// <summary>Validation cadence in steps.</summary>
    public long? EvalEvery { get; set; }

    /// <summary>Checkpoint cadence in steps.</summary>
    public long? CheckpointEvery { get; set; }

    /// <summary>Progress line cadence in steps (also the metrics cadence).</summary>
    public long? LogEvery { get; set; }

    /// <summary>Steps between reads of the training numbers from the device (default: 10 on CUDA, else 1).</summary>
    public int? SyncEvery { get; set; }

    /// <summary>Training images.</summary>
    public int? TrainCount { get; set; }

    /// <summary>Validation and test images (each).</summary>
    public int? EvalCount { get; set; }

    /// <summary>Arrow-pointing scale divisor.</summary>
    public double? Scale { get; set; }

    /// <summary>Patch size of every model.</summary>
    public int? PatchSize { get; set; }

    /// <summary>Convolutional stem width of every model (0 = the linear patch projection).</summary>
    public int? ConvStem { get; set; }

    /// <summary>Convolutional stem kind: maxpool or strided.</summary>
    public string? ConvStemKind { get; set; }

    /// <summary>Output folder.</summary>
    public string? Out { get; set; }

    /// <summary>libtorch intra-op threads (null: libtorch's default, one per core; with models in parallel, the cores
    /// shared out between them).</summary>
    public int? Threads { get; set; }

    /// <summary>How many of an experiment's models train at once, each in a process of its own (null: on the CPU as
    /// many as there are cores, at most every model; on CUDA one).</summary>
    public int? ParallelModels { get; set; }

    /// <summary>Let cuBLAS use TF32 tensor cores for float32 matrix products on CUDA (PyTorch's
    /// <c>set_float32_matmul_precision("high")</c>); no effect on the CPU.</summary>
    public bool? Tf32 { get; set; }

    /// <summary>Every pLSTM 2D layer recomputes its path sums in backward instead of keeping them (less memory, slower,
    /// same result; <see cref="Plstm.Experiments.ExperimentPreset.RecomputeInBackward"/>).</summary>
    public bool? Recompute { get; set; }

    /// <summary>The dtype the models compute in while their parameters stay float32: float32, bfloat16 or float16
    /// (<see cref="Plstm.Experiments.ExperimentPreset.ComputeDtype"/>).</summary>
    public string? ComputeDtype { get; set; }

    /// <summary>Resume.</summary>
    public bool? Resume { get; set; }

    /// <summary>Write curves.png.</summary>
    public bool? Plot { get; set; }

    private static readonly Dictionary<string, Action<TrainSettings, Value>> Setters = new(StringComparer.Ordinal)
    {
        ["experiment"] = (s, v) => s.Experiment = v.String(),
        ["preset"] = (s, v) => s.Preset = v.String(),
        ["model"] = (s, v) => s.Preset = v.String(),
        ["data"] = (s, v) => s.Data = v.String(),
        ["data_dir"] = (s, v) => s.DataDir = v.String(),
        ["steps"] = (s, v) => s.Steps = v.Long(),
        ["batch_size"] = (s, v) => s.BatchSize = v.Int(),
        ["eval_batch_size"] = (s, v) => s.EvalBatchSize = v.Int(),
        ["lr"] = (s, v) => s.Lr = v.Double(),
        ["learning_rate"] = (s, v) => s.Lr = v.Double(),
        ["warmup"] = (s, v) => s.Warmup = v.Long(),
        ["weight_decay"] = (s, v) => s.WeightDecay = v.Double(),
        ["clip"] = (s, v) => s.Clip = v.Double(),
        ["label_smoothing"] = (s, v) => s.LabelSmoothing = v.Double(),
        ["random_crop"] = (s, v) => s.RandomCrop = v.Int(),
        ["random_crop_padding"] = (s, v) => s.RandomCrop = v.Int(),
        ["hflip"] = (s, v) => s.HorizontalFlip = v.Double(),
        ["horizontal_flip_probability"] = (s, v) => s.HorizontalFlip = v.Double(),
        ["symmetry_curriculum"] = (s, v) => s.SymmetryCurriculum = v.Double(),
        ["curriculum_window"] = (s, v) => s.CurriculumWindow = v.Int(),
        ["ema_decay"] = (s, v) => s.EmaDecay = v.Double(),
        ["tta"] = (s, v) => s.Tta = v.String(),
        ["arrow_input"] = (s, v) => s.ArrowInput = v.String(),
        ["seed"] = (s, v) => s.Seed = v.Long(),
        ["device"] = (s, v) => s.Device = v.String(),
        ["eval_every"] = (s, v) => s.EvalEvery = v.Long(),
        ["checkpoint_every"] = (s, v) => s.CheckpointEvery = v.Long(),
        ["log_every"] = (s, v) => s.LogEvery = v.Long(),
        ["sync_every"] = (s, v) => s.SyncEvery = v.Int(),
        ["train_count"] = (s, v) => s.TrainCount = v.Int(),
        ["eval_count"] = (s, v) => s.EvalCount = v.Int(),
        ["scale"] = (s, v) => s.Scale = v.Double(),
        ["patch_size"] = (s, v) => s.PatchSize = v.Int(),
        ["conv_stem"] = (s, v) => s.ConvStem = v.Int(),
        ["conv_stem_kind"] = (s, v) => s.ConvStemKind = v.String(),
        ["out"] = (s, v) => s.Out = v.String(),
        ["threads"] = (s, v) => s.Threads = v.Int(),
        ["parallel_models"] = (s, v) => s.ParallelModels = v.Int(),
        ["tf32"] = (s, v) => s.Tf32 = v.Bool(),
        ["recompute"] = (s, v) => s.Recompute = v.Bool(),
        ["compute_dtype"] = (s, v) => s.ComputeDtype = v.String(),
        ["resume"] = (s, v) => s.Resume = v.Bool(),
        ["plot"] = (s, v) => s.Plot = v.Bool(),
    };

    /// <summary>The keys a config file may use (in snake_case; kebab-case is accepted too).</summary>
    public static IReadOnlyCollection<string> Keys => Setters.Keys;

    /// <summary>
    /// Every value set in <paramref name="other"/> replaces this one's; returns this.
    /// </summary>
    public TrainSettings Overlay(TrainSettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var property in typeof(TrainSettings).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            object? value = property.GetValue(other);
            if (value is not null) property.SetValue(this, value);
        }
        return this;
    }

    /// <summary>
    /// Reads a config file: JSON for <c>.json</c>, YAML for <c>.yaml</c>/<c>.yml</c>, otherwise JSON when the text
    /// starts with <c>{</c> and YAML else. The top level must be a mapping of scalar values.
    /// </summary>
    /// <exception cref="CliUsageException">Missing file, invalid syntax, unknown key or a value of the wrong type
    /// (the message names the file and the key).</exception>
    public static TrainSettings Load(string path)
    {
        if (!File.Exists(path))
            throw new CliUsageException(Directory.Exists(path)
                ? $"--config '{path}' is a folder, not a file."
                : $"--config file '{path}' does not exist.");
        string text = File.ReadAllText(path);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        bool json = ext == ".json" || (ext is not (".yaml" or ".yml") && text.TrimStart().StartsWith('{'));
        return FromEntries(path, json ? ReadJson(path, text) : ReadYaml(path, text));
    }

    /// <summary>Parses settings written by <see cref="ToJson"/> (or any JSON config); <paramref name="source"/> names
    /// where they came from in error messages.</summary>
    /// <exception cref="CliUsageException">As <see cref="Load"/>.</exception>
    public static TrainSettings FromJson(string text, string source) => FromEntries(source, ReadJson(source, text));

    /// <summary>
    /// Every setting that is set, as a JSON object with the config keys (what a model's worker process is given, so
    /// it trains with exactly the parent's settings).
    /// </summary>
    public string ToJson()
    {
        var obj = new JsonObject();
        foreach (var property in typeof(TrainSettings).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            object? value = property.GetValue(this);
            if (value is null) continue;
            string key = property.Name == nameof(HorizontalFlip) ? "hflip" : JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
            obj[key] = value switch
            {
                string v => JsonValue.Create(v),
                bool v => JsonValue.Create(v),
                int v => JsonValue.Create(v),
                long v => JsonValue.Create(v),
                // Written as the shortest text that parses back to the same double: the worker gets the very same value.
                double v => JsonValue.Create(v),
                _ => throw new InvalidOperationException($"TrainSettings.{property.Name} has an unsupported type."),
            };
        }
        return obj.ToJsonString();
    }

    private static TrainSettings FromEntries(string path, List<(string Key, Value Value)> entries)
    {
        var settings = new TrainSettings();
        foreach (var (rawKey, value) in entries)
        {
            string key = rawKey.Trim().ToLowerInvariant().Replace('-', '_');
            if (!Setters.TryGetValue(key, out var set))
                throw new CliUsageException(
                    $"--config '{path}': unknown key '{rawKey}' (known: {string.Join(", ", Setters.Keys.Order(StringComparer.Ordinal))}).");
            try
            {
                set(settings, value);
            }
            catch (FormatException ex)
            {
                throw new CliUsageException($"--config '{path}': '{rawKey}' {ex.Message}", ex);
            }
        }
        return settings;
    }

    private static List<(string Key, Value Value)> ReadJson(string path, string text)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"--config '{path}' is not valid JSON: {ex.Message}", ex);
        }
        if (root is not JsonObject obj)
            throw new CliUsageException($"--config '{path}': the top level must be an object of settings.");
        var list = new List<(string, Value)>();
        foreach (var (key, node) in obj)
        {
            object? value = node switch
            {
                null => null,
                JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
                JsonValue v when v.GetValueKind() == JsonValueKind.Number =>
                    v.TryGetValue(out long l) ? l : v.GetValue<double>(),
                _ => throw new CliUsageException($"--config '{path}': '{key}' must be a single value, not a list or object."),
            };
            list.Add((key, new Value(value)));
        }
        return list;
    }

    private static List<(string Key, Value Value)> ReadYaml(string path, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new CliUsageException($"--config '{path}' is not valid YAML: {ex.Message}", ex);
        }
        var list = new List<(string, Value)>();
        if (stream.Documents.Count == 0) return list;
        if (stream.Documents[0].RootNode is not YamlMappingNode mapping)
            throw new CliUsageException($"--config '{path}': the top level must be a mapping of settings (key: value).");
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value
                ?? throw new CliUsageException($"--config '{path}': keys must be plain names.");
            if (valueNode is not YamlScalarNode scalar)
                throw new CliUsageException($"--config '{path}': '{key}' must be a single value, not a list or mapping.");
            list.Add((key, new Value(ScalarValue(scalar))));
        }
        return list;
    }

    /// <summary>A plain YAML scalar as null, bool, long, double or string; a quoted one stays a string.</summary>
    private static object? ScalarValue(YamlScalarNode scalar)
    {
        string? text = scalar.Value;
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any)) return text;
        if (text is null || text is "" or "~" or "null" or "Null" or "NULL") return null;
        if (text is "true" or "True" or "TRUE") return true;
        if (text is "false" or "False" or "FALSE") return false;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        return text;
    }

    /// <summary>A config value with typed accessors that throw <see cref="FormatException"/> on a type mismatch.</summary>
    private readonly record struct Value(object? Raw)
    {
        public string? String() => Raw switch
        {
            null => null,
            string s => s,
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => Raw.ToString(),
        };

        public long? Long() => Raw switch
        {
            null => null,
            long l => l,
            double d when d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
            string s when long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) => l,
            _ => throw new FormatException($"must be an integer (got '{Raw}')."),
        };

        public int? Int()
        {
            long? v = Long();
            if (v is long l && (l < int.MinValue || l > int.MaxValue))
                throw new FormatException($"is out of range (got {l}).");
            return (int?)v;
        }

        public double? Double() => Raw switch
        {
            null => null,
            long l => l,
            double d => d,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            _ => throw new FormatException($"must be a number (got '{Raw}')."),
        };

        public bool? Bool() => Raw switch
        {
            null => null,
            bool b => b,
            string s when bool.TryParse(s, out bool b) => b,
            _ => throw new FormatException($"must be true or false (got '{Raw}')."),
        };
    }
}
