using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Models.Language;

/// <summary>
/// The complete streaming state of a <see cref="PlstmLanguageModel"/> after some prefix: per block, the pLSTM cell
/// state and the causal convolution's input history. With it, <see cref="PlstmLanguageModel.Step"/> computes the next
/// position in O(1) (no re-running of the prefix).
/// </summary>
/// <remarks>
/// <para>Layout, per block i (in block order):</para>
/// <list type="bullet">
/// <item><see cref="CellStates"/>[i]: <c>[B·H, DK, DV, JT]</c>, heads folded into the batch (index b·H + h), the
/// state <c>C_{t}</c> after the last consumed position (the layer's <c>Forward(x, initialState, out finalState)</c>
/// layout);</item>
/// <item><see cref="ConvolutionHistories"/>[i]: <c>[B, K−1, D]</c>, the last K − 1 inputs of that block's pLSTM layer
/// (the RMS-normalised block input), oldest first, zeros before the start of the sequence; null when the layer has no
/// convolution.</item>
/// </list>
/// <para>The state is a mutable cursor: <see cref="PlstmLanguageModel.Step"/> and
/// <see cref="PlstmLanguageModel.Forward(Tensor, LanguageModelState)"/> replace its tensors (disposing the old ones)
/// and advance <see cref="Position"/>. It owns its tensors (they are detached from any dispose scope); dispose it.
/// <see cref="Clone"/> makes an independent copy (e.g. to branch a prefix).</para>
/// </remarks>
public sealed class LanguageModelState : IDisposable
{
    private readonly Tensor[] _cells;
    private readonly Tensor?[] _histories;
    private bool _disposed;

    internal LanguageModelState(Tensor[] cells, Tensor?[] histories, long batchSize, long position)
    {
        _cells = cells;
        _histories = histories;
        foreach (var c in _cells) c.DetachFromDisposeScope();
        foreach (var h in _histories) h?.DetachFromDisposeScope();
        BatchSize = batchSize;
        Position = position;
    }

    /// <summary>Batch size B.</summary>
    public long BatchSize { get; }

    /// <summary>Number of tokens consumed so far.</summary>
    public long Position { get; private set; }

    /// <summary>Number of blocks (pLSTM layers).</summary>
    public int NumLayers => _cells.Length;

    /// <summary>The pLSTM cell state of every block, <c>[B·H, DK, DV, JT]</c>.</summary>
    public IReadOnlyList<Tensor> CellStates
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _cells;
        }
    }

    /// <summary>The convolution input history of every block, <c>[B, K−1, D]</c> (null without convolution).</summary>
    public IReadOnlyList<Tensor?> ConvolutionHistories
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _histories;
        }
    }

    /// <summary>dtype of the state tensors.</summary>
    public ScalarType DType => _cells[0].dtype;

    /// <summary>Device of the state tensors.</summary>
    public Device Device => _cells[0].device;

    /// <summary>An independent deep copy (same position).</summary>
    public LanguageModelState Clone()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        return new LanguageModelState(_cells.Select(c => c.detach().clone()).ToArray(),
            _histories.Select(h => h?.detach().clone()).ToArray(), BatchSize, Position);
    }

    /// <summary>Replaces block <paramref name="layer"/>'s tensors (disposing the old ones unless they are the same).</summary>
    internal void Replace(int layer, Tensor cell, Tensor? history)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cell.DetachFromDisposeScope();
        history?.DetachFromDisposeScope();
        if (!ReferenceEquals(_cells[layer], cell)) _cells[layer].Dispose();
        if (_histories[layer] is { } old && !ReferenceEquals(old, history)) old.Dispose();
        _cells[layer] = cell;
        _histories[layer] = history;
    }

    /// <summary>Advances <see cref="Position"/> by <paramref name="tokens"/>.</summary>
    internal void Advance(long tokens) => Position += tokens;

    /// <summary>Throws when disposed.</summary>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Disposes every state tensor.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var c in _cells) c.Dispose();
        foreach (var h in _histories) h?.Dispose();
    }
}
