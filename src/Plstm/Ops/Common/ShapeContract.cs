using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Ops.Common;

/// <summary>
/// Checks a set of operator inputs against symbolic shapes such as <c>[B, L, DK, JK]</c>: each symbol is bound on
/// first sight and must agree everywhere after; dtype and device must match the first tensor checked. Errors are
/// <see cref="ArgumentException"/>s that name the tensor and the expected shape with the symbols resolved so far.
/// </summary>
public sealed class ShapeContract
{
    private readonly Dictionary<string, long> _dims = new();
    private ScalarType? _dtype;
    private Device? _device;
    private string? _firstName;

    /// <summary>The value bound to a symbol.</summary>
    public long this[string symbol] => _dims.TryGetValue(symbol, out var v)
        ? v
        : throw new InvalidOperationException($"Symbol {symbol} is not bound yet.");

    /// <summary>Binds a symbol to a known value before any tensor is checked (e.g. a fixed orientation count).</summary>
    public ShapeContract Bind(string symbol, long value)
    {
        _dims[symbol] = value;
        return this;
    }

    /// <summary>Checks <paramref name="tensor"/> (named <paramref name="name"/>) against <paramref name="symbols"/>.</summary>
    /// <exception cref="ArgumentException">Wrong rank, size, dtype or device.</exception>
    public ShapeContract Check(string name, Tensor tensor, params string[] symbols)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        // Each property of a TorchSharp tensor (shape, dtype, device) is a native call that allocates: read each once.
        // The operators validate a dozen inputs per call, on the host's critical path of every layer's forward.
        var dtype = tensor.dtype;
        if (_dtype is null)
        {
            if (dtype != ScalarType.Float32 && dtype != ScalarType.Float64
                && dtype != ScalarType.BFloat16 && dtype != ScalarType.Float16)
                throw new ArgumentException($"{name}: expected a floating-point tensor, got {dtype}.", name);
            _dtype = dtype;
            _device = tensor.device;
            _firstName = name;
        }
        else
        {
            if (dtype != _dtype)
                throw new ArgumentException($"{name}: expected dtype {_dtype} (as {_firstName}), got {dtype}.", name);
            if (tensor.device_type != _device!.type || tensor.device_index != _device.index)
                throw new ArgumentException($"{name}: expected device {_device} (as {_firstName}), got {tensor.device}.", name);
        }
        var shape = tensor.shape;
        if (shape.Length != symbols.Length)
            throw new ArgumentException(
                $"{name}: expected rank {symbols.Length} with shape {Describe(symbols)}, got shape {Format(shape)}.", name);
        for (int i = 0; i < symbols.Length; i++)
        {
            long actual = shape[i];
            if (_dims.TryGetValue(symbols[i], out long bound))
            {
                if (bound != actual)
                    throw new ArgumentException(
                        $"{name}: expected shape {Describe(symbols)}, got {Format(shape)} (axis {i}, {symbols[i]}, must be {bound}).", name);
            }
            else
            {
                if (actual < 1)
                    throw new ArgumentException($"{name}: axis {i} ({symbols[i]}) must be at least 1, got shape {Format(shape)}.", name);
                _dims[symbols[i]] = actual;
            }
        }
        return this;
    }

    /// <summary>Checks an optional tensor; null passes.</summary>
    public ShapeContract CheckOptional(string name, Tensor? tensor, params string[] symbols) =>
        tensor is null ? this : Check(name, tensor, symbols);

    private string Describe(string[] symbols)
    {
        var parts = symbols.Select(s => _dims.TryGetValue(s, out var v) ? $"{s}={v}" : s);
        return "[" + string.Join(", ", parts) + "]";
    }

    internal static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
