using System.Globalization;
using System.Text.Json;

namespace Plstm.Tests.Support;

/// <summary>Tolerance of a golden file: elementwise <c>|a−e| ≤ Atol + Rtol·|e|</c>, or exact equality.</summary>
public sealed record GoldenTolerance(double Rtol, double Atol, bool Exact)
{
    /// <summary>Used when a file has no <c>tolerance</c> field.</summary>
    public static GoldenTolerance Default { get; } = new(Tolerances.GoldenDefaultRtol, Tolerances.GoldenDefaultAtol, false);
}

/// <summary>One stored array of a golden file: dtype, shape and row-major data (exactly one of the data arrays is set).</summary>
public sealed record GoldenArray(string Name, string Dtype, long[] Shape, double[]? Float64Data, long[]? Int64Data)
{
    /// <summary>A new tensor holding this array (float64 or int64, the stored shape). The caller owns it.</summary>
    public Tensor ToTensor() => Float64Data is not null
        ? tensor(Float64Data, Shape, dtype: ScalarType.Float64)
        : tensor(Int64Data!, Shape, dtype: ScalarType.Int64);
}

/// <summary>
/// One golden-vector file (format: <c>Golden/Data/README.md</c>, "File format"). Arrays are kept as managed data;
/// <see cref="GetTensor(string)"/> makes a fresh tensor each call, so tensors live in the caller's dispose scope.
/// </summary>
public sealed class GoldenCase
{
    private GoldenCase(string sourcePath, string name, string kind, string description,
        IReadOnlyDictionary<string, JsonElement> parameters, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs,
        string? upstream, IReadOnlyList<string> gradients, GoldenTolerance tolerance,
        IReadOnlyDictionary<string, GoldenArray> arrays)
    {
        SourcePath = sourcePath; Name = name; Kind = kind; Description = description; Params = parameters;
        Inputs = inputs; Outputs = outputs; Upstream = upstream; Gradients = gradients; Tolerance = tolerance;
        Arrays = arrays;
    }

    public string SourcePath { get; }
    public string Name { get; }
    public string Kind { get; }
    public string Description { get; }
    public IReadOnlyDictionary<string, JsonElement> Params { get; }
    public IReadOnlyList<string> Inputs { get; }
    public IReadOnlyList<string> Outputs { get; }
    public string? Upstream { get; }
    public IReadOnlyList<string> Gradients { get; }
    public GoldenTolerance Tolerance { get; }
    public IReadOnlyDictionary<string, GoldenArray> Arrays { get; }

    /// <summary>True when the file stores an array of that name.</summary>
    public bool Has(string arrayName) => Arrays.ContainsKey(arrayName);

    /// <summary>A new tensor for a stored array; fails clearly when the file lacks it.</summary>
    public Tensor GetTensor(string arrayName) => Arrays.TryGetValue(arrayName, out var a)
        ? a.ToTensor()
        : throw new InvalidDataException($"{Name}: the file has no array '{arrayName}' (arrays: {string.Join(", ", Arrays.Keys)}).");

    /// <summary>A new tensor for a stored array, or null when the file lacks it.</summary>
    public Tensor? GetOptionalTensor(string arrayName) => Arrays.TryGetValue(arrayName, out var a) ? a.ToTensor() : null;

    public bool HasParam(string key) => Params.ContainsKey(key);

    public int ParamInt(string key) => Param(key).GetInt32();

    public double ParamDouble(string key) => Param(key).GetDouble();

    public bool ParamBool(string key) => Param(key).GetBoolean();

    public double? OptionalParamDouble(string key) => Params.TryGetValue(key, out var v) ? v.GetDouble() : null;

    public bool? OptionalParamBool(string key) => Params.TryGetValue(key, out var v) ? v.GetBoolean() : null;

    private JsonElement Param(string key) => Params.TryGetValue(key, out var v)
        ? v
        : throw new InvalidDataException($"{Name}: params has no '{key}' (params: {string.Join(", ", Params.Keys)}).");

    public override string ToString() => $"{Name} ({Kind})";

    /// <summary>Reads and validates one golden file.</summary>
    /// <exception cref="InvalidDataException">The file does not follow the golden format.</exception>
    public static GoldenCase Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var doc = JsonDocument.Parse(stream);
        var root = doc.RootElement;
        string file = Path.GetFileName(path);
        try
        {
            string name = RequiredString(root, "name");
            string kind = RequiredString(root, "kind");
            string description = root.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String
                ? d.GetString()! : "";
            var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            if (root.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Object)
                foreach (var prop in p.EnumerateObject())
                    parameters[prop.Name] = prop.Value.Clone();
            var inputs = StringList(root, "inputs");
            var outputs = StringList(root, "outputs");
            var gradients = StringList(root, "gradients");
            string? upstream = root.TryGetProperty("upstream", out var u) && u.ValueKind == JsonValueKind.String
                ? u.GetString() : null;
            var tolerance = ReadTolerance(root);

            if (!root.TryGetProperty("arrays", out var arraysElement) || arraysElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException("missing object 'arrays'");
            var arrays = new Dictionary<string, GoldenArray>(StringComparer.Ordinal);
            foreach (var prop in arraysElement.EnumerateObject())
                arrays[prop.Name] = ReadArray(prop.Name, prop.Value);

            var referenced = inputs.Concat(outputs).Concat(gradients).Concat(upstream is null ? [] : new[] { upstream });
            foreach (var n in referenced)
                if (!arrays.ContainsKey(n))
                    throw new InvalidDataException($"array '{n}' is listed but not stored");

            return new GoldenCase(path, name, kind, description, parameters, inputs, outputs, upstream, gradients,
                tolerance, arrays);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException
                                       or InvalidDataException or OverflowException)
        {
            throw new InvalidDataException($"{file}: not a valid golden file: {ex.Message}", ex);
        }
    }

    private static string RequiredString(JsonElement root, string key) =>
        root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new InvalidDataException($"missing string '{key}'");

    private static IReadOnlyList<string> StringList(JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"'{key}' must be a list of names");
        return v.EnumerateArray().Select(e => e.GetString() ?? throw new InvalidDataException($"null name in '{key}'")).ToArray();
    }

    private static GoldenTolerance ReadTolerance(JsonElement root)
    {
        if (!root.TryGetProperty("tolerance", out var t) || t.ValueKind != JsonValueKind.Object)
            return GoldenTolerance.Default;
        if (t.TryGetProperty("exact", out var exact) && exact.ValueKind == JsonValueKind.True)
            return new GoldenTolerance(0.0, 0.0, true);
        double rtol = t.TryGetProperty("rtol", out var r) ? r.GetDouble() : Tolerances.GoldenDefaultRtol;
        double atol = t.TryGetProperty("atol", out var a) ? a.GetDouble() : Tolerances.GoldenDefaultAtol;
        return new GoldenTolerance(rtol, atol, false);
    }

    private static GoldenArray ReadArray(string name, JsonElement element)
    {
        string dtype = element.TryGetProperty("dtype", out var dt) ? dt.GetString() ?? "" : "";
        if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"array '{name}': missing 'shape'");
        long[] shape = shapeElement.EnumerateArray().Select(e => e.GetInt64()).ToArray();
        if (shape.Any(s => s < 0)) throw new InvalidDataException($"array '{name}': negative extent in shape");
        long count = shape.Aggregate(1L, (acc, s) => checked(acc * s));
        if (!element.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"array '{name}': missing 'data'");
        int length = data.GetArrayLength();
        if (length != count)
            throw new InvalidDataException(
                $"array '{name}': shape {TensorAssert.FormatShape(shape)} needs {count} values, 'data' has {length}");
        switch (dtype)
        {
            case "float64":
            {
                var values = new double[length];
                int i = 0;
                foreach (var e in data.EnumerateArray()) values[i++] = ParseDouble(e);
                return new GoldenArray(name, dtype, shape, values, null);
            }
            case "int64":
            {
                var values = new long[length];
                int i = 0;
                foreach (var e in data.EnumerateArray()) values[i++] = e.GetInt64();
                return new GoldenArray(name, dtype, shape, null, values);
            }
            default:
                throw new InvalidDataException($"array '{name}': unsupported dtype '{dtype}' (expected float64 or int64)");
        }
    }

    /// <summary>Invariant-culture parse of the shortest round-trip decimal (also accepts quoted "NaN"/"Infinity").</summary>
    private static double ParseDouble(JsonElement e)
    {
        string text = e.ValueKind switch
        {
            JsonValueKind.Number => e.GetRawText(),
            JsonValueKind.String => e.GetString()!,
            _ => throw new InvalidDataException($"expected a number, got {e.ValueKind}"),
        };
        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
