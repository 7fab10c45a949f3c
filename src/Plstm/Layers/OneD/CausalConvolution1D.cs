using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers.OneD;

/// <summary>
/// Causal depthwise 1D convolution (reference <c>Convolution1DLayer</c>): per channel c,
/// <c>y[t, c] = bias[c] + Σ_{j=0}^{K−1} weight[c, 0, j] · x[t − (K−1) + j, c]</c> with x = 0 before the start, so the
/// output at t sees inputs t−K+1 … t only. Input and output <c>[B, T, D]</c>.
/// Parameters (reference names, inside the child <c>_conv</c>, a <c>Conv1d(D, D, K, groups = D)</c>):
/// <c>_conv.weight [D, 1, K]</c>, <c>_conv.bias [D]</c>. Init: PyTorch's Conv1d default (the reference does not
/// override it), uniform(−1/√K, 1/√K) for both.
/// </summary>
/// <remarks>The reference pads K−1 zeros on both sides and keeps the first T outputs; padding K−1 zeros on the left only
/// gives the same outputs. Parameters are cast to the input's dtype.</remarks>
public sealed class CausalConvolution1D : nn.Module<Tensor, Tensor>
{
    // Reference child name; not readonly because Module.to(…) may swap it through the field.
    private Conv1d _conv;

    private readonly int _channels;
    private readonly int _kernelSize;

    /// <summary>Creates the convolution with PyTorch-default initialisation (float32, CPU).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="channels">Channels D (depthwise: groups = D).</param>
    /// <param name="kernelSize">Kernel size K ≥ 1.</param>
    /// <param name="bias">Whether there is a bias.</param>
    /// <exception cref="ArgumentException">A non-positive size.</exception>
    public CausalConvolution1D(string name, int channels, int kernelSize = 4, bool bias = true) : base(name)
    {
        if (channels <= 0) throw new ArgumentException($"must be positive, got {channels}", nameof(channels));
        if (kernelSize <= 0) throw new ArgumentException($"must be positive, got {kernelSize}", nameof(kernelSize));
        _channels = channels;
        _kernelSize = kernelSize;
        _conv = nn.Conv1d(channels, channels, kernelSize, groups: channels, bias: bias);
        ResetParameters();
        RegisterComponents();
    }

    /// <summary>The kernel <c>[D, 1, K]</c>.</summary>
    public Parameter Weight => _conv.weight!;

    /// <summary>The bias <c>[D]</c>, or null.</summary>
    public Parameter? Bias => _conv.bias;

    /// <summary>Re-initialises as PyTorch's Conv1d: weight and bias uniform(−1/√fan_in, 1/√fan_in), fan_in = K.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        double bound = 1.0 / Math.Sqrt(_kernelSize);
        nn.init.uniform_(_conv.weight!, -bound, bound);
        if (_conv.bias is not null) nn.init.uniform_(_conv.bias, -bound, bound);
    }

    /// <summary>Kernel size K.</summary>
    public int KernelSize => _kernelSize;

    /// <summary>Channels D.</summary>
    public int Channels => _channels;

    /// <summary>Length of the input history the convolution carries between segments: K − 1.</summary>
    public int HistoryLength => _kernelSize - 1;

    /// <summary>
    /// Convolves <c>[B, T, D]</c> causally along T, continuing from <paramref name="history"/>, the K − 1 inputs before
    /// position 0 (oldest first; null = zeros, i.e. <see cref="forward"/>), and returns the K − 1 last inputs of the
    /// concatenation <c>[history, x]</c> as <paramref name="newHistory"/>, so that running segments one after another
    /// (or one position at a time, T = 1) equals one run over the whole sequence.
    /// </summary>
    /// <param name="x">Input <c>[B, T, D]</c>, T ≥ 1.</param>
    /// <param name="history">The previous K − 1 inputs <c>[B, K−1, D]</c>, or null for zeros. Cast to x's dtype.</param>
    /// <param name="newHistory">The K − 1 last inputs <c>[B, K−1, D]</c> (zeros where the sequence so far is shorter).</param>
    /// <returns>The output <c>[B, T, D]</c>.</returns>
    /// <exception cref="ArgumentException">x or <paramref name="history"/> has the wrong shape or device.</exception>
    public Tensor Forward(Tensor x, Tensor? history, out Tensor newHistory)
    {
        if (x.dim() != 3 || x.shape[2] != _channels)
            throw new ArgumentException(
                $"{nameof(CausalConvolution1D)}: expected x of shape [B, T, {_channels}], got [{string.Join(", ", x.shape)}].", nameof(x));
        long b = x.shape[0];
        int k1 = _kernelSize - 1;
        if (history is not null && !history.shape.SequenceEqual(new[] { b, (long)k1, _channels }))
            throw new ArgumentException(
                $"{nameof(CausalConvolution1D)}: history must have shape [B, K−1, D] = [{b}, {k1}, {_channels}], " +
                $"got [{string.Join(", ", history.shape)}].", nameof(history));
        if (history is not null && (history.device_type != x.device_type || history.device_index != x.device_index))
            throw new ArgumentException(
                $"{nameof(CausalConvolution1D)}: history must be on x's device {x.device}, got {history.device}.", nameof(history));
        using var scope = NewDisposeScope();
        var past = history?.to_type(x.dtype) ?? zeros(new[] { b, (long)k1, _channels }, dtype: x.dtype, device: x.device);
        var full = cat(new[] { past, x }, 1);                                                 // [B, K−1+T, D]
        var y = nn.functional.conv1d(full.transpose(1, 2), _conv.weight!.to_type(x.dtype), _conv.bias?.to_type(x.dtype),
            groups: _channels);                                                             // [B, D, T]
        newHistory = full.narrow(1, full.shape[1] - k1, k1).contiguous().MoveToOuterDisposeScope();
        return y.transpose(1, 2).MoveToOuterDisposeScope();                                 // [B, T, D]
    }

    /// <summary>Convolves <c>[B, T, D]</c> causally along T.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 3 || x.shape[2] != _channels)
            throw new ArgumentException(
                $"{nameof(CausalConvolution1D)}: expected x of shape [B, T, {_channels}], got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        var xt = nn.functional.pad(x.transpose(1, 2), new long[] { _kernelSize - 1, 0 });    // [B, D, K−1+T]
        var y = nn.functional.conv1d(xt, _conv.weight!.to_type(x.dtype), _conv.bias?.to_type(x.dtype), groups: _channels);
        return y.transpose(1, 2).MoveToOuterDisposeScope();                                 // [B, T, D]
    }
}
