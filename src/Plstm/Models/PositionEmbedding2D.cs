using Plstm.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Models;

/// <summary>
/// Learnable 2D positional embedding added to the patch grid (the reference's <c>VitPosEmbed2d</c>, models §6.3
/// step 2). One parameter, <c>embed</c> <c>[1, X, Y, D]</c>, init SmallInit with fan D. On a grid other than the one it
/// was made for (e.g. 24×24 patches at 384 px for a 12×12 model) it is resized with bicubic interpolation without
/// align-corners, as <c>torch.nn.functional.interpolate(mode="bicubic")</c> does in the reference.
/// </summary>
public sealed class PositionEmbedding2D : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates an embedding for a <paramref name="gridX"/>×<paramref name="gridY"/> grid of width <paramref name="dim"/>.</summary>
    public PositionEmbedding2D(string name, int gridX, int gridY, int dim) : base(name)
    {
        if (gridX <= 0 || gridY <= 0 || dim <= 0)
            throw new ArgumentException($"grid {gridX}×{gridY} and dim {dim} must be positive.");
        GridX = gridX;
        GridY = gridY;
        Dim = dim;
        var embed = new Parameter(empty(1, gridX, gridY, dim, dtype: ScalarType.Float32));
        Initializers.SmallInit(embed, fan: dim);
        register_parameter("embed", embed);
    }

    /// <summary>Grid rows X the parameter was made for.</summary>
    public int GridX { get; }

    /// <summary>Grid columns Y the parameter was made for.</summary>
    public int GridY { get; }

    /// <summary>Width D.</summary>
    public int Dim { get; }

    /// <summary>The embedding, <c>[1, X, Y, D]</c>.</summary>
    public Parameter Embed => get_parameter("embed")!;

    /// <summary><c>[B, X', Y', D]</c> → same shape, with the (resized if X', Y' differ) embedding added.</summary>
    public override Tensor forward(Tensor patches)
    {
        ArgumentNullException.ThrowIfNull(patches);
        using var scope = NewDisposeScope();
        var embed = Resize(Embed, patches.shape[1], patches.shape[2]);                 // [1, X', Y', D]
        return (patches + embed.to_type(patches.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Bicubic resize (no align-corners) of a <c>[1, X, Y, D]</c> embedding to <c>[1, x, y, D]</c>; returns the input
    /// itself (an alias) when the grid already matches. Used at run time and when loading checkpoints of another
    /// resolution.
    /// </summary>
    public static Tensor Resize(Tensor embed, long x, long y)
    {
        ArgumentNullException.ThrowIfNull(embed);
        if (embed.ndim != 4 || embed.shape[0] != 1)
            throw new ArgumentException($"expected an embedding [1, X, Y, D], got [{string.Join(", ", embed.shape)}].",
                nameof(embed));
        if (embed.shape[1] == x && embed.shape[2] == y) return embed.alias();
        using var scope = NewDisposeScope();
        var channelsFirst = embed.permute(0, 3, 1, 2);                                  // [1, D, X, Y]
        var resized = nn.functional.interpolate(channelsFirst, size: new[] { x, y },
            mode: InterpolationMode.Bicubic, align_corners: false);                     // [1, D, x, y]
        return resized.permute(0, 2, 3, 1).contiguous().MoveToOuterDisposeScope();      // [1, x, y, D]
    }
}
