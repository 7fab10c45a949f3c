using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Models;

/// <summary>
/// The sequence of residual blocks of a vision model (the reference's <c>BlockStack</c>): children named
/// <c>blocks.0</c>, <c>blocks.1</c>, …, applied in order.
/// </summary>
public sealed class BlockStack : nn.Module<Tensor, Tensor>
{
    // Each module field carries its registered (reference) name: TorchSharp's field scan would otherwise register
    // it a second time under the C# field name and the state_dict keys would change.
    [ComponentName(Name = "blocks")]
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _blocks;

    /// <summary>Stacks <paramref name="blocks"/> (the stack then owns them).</summary>
    public BlockStack(string name, IEnumerable<nn.Module<Tensor, Tensor>> blocks) : base(name)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        _blocks = nn.ModuleList(blocks.ToArray());
        register_module("blocks", _blocks);
    }

    /// <summary>The blocks, in order.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Blocks => [.. _blocks];

    /// <summary>Applies every block in turn; shape-preserving.</summary>
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var block in _blocks)
            h = block.forward(h);
        return (ReferenceEquals(h, x) ? x.alias() : h).MoveToOuterDisposeScope();
    }
}
