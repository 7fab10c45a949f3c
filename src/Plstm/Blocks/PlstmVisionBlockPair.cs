using Plstm.Layers;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Blocks;

/// <summary>
/// One "block" of the pLSTM vision model (the reference's <c>pLSTMVisionBlock1</c>, models §6.2): a PostUp block
/// around a P-mode layer followed by a PostUp block around a D-mode layer (or the ablation layouts of
/// <see cref="PlstmBlockMode"/>). Reference names: <c>block0.*</c>, <c>block1.*</c>.
/// </summary>
/// <remarks>
/// The reference also has an outer drop path on the pair's total update <c>x_out − x_in</c> (<c>vblock_drop_path_rate</c>,
/// 0 in every config); it is kept here as <see cref="PairDropPathRate"/>. It holds no parameters.
/// </remarks>
public sealed class PlstmVisionBlockPair : nn.Module<Tensor, Tensor>
{
    // Each module field carries its registered (reference) name: TorchSharp's field scan would otherwise register
    // it a second time under the C# field name and the state_dict keys would change.
    [ComponentName(Name = "block0")]
    private readonly PostUpProjectionBlock _block0;
    [ComponentName(Name = "block1")]
    private readonly PostUpProjectionBlock _block1;
    [ComponentName(Name = "drop_path")]
    private readonly DropPath _dropPath;

    /// <summary>Combines two already built PostUp blocks (the pair then owns them).</summary>
    public PlstmVisionBlockPair(string name, PostUpProjectionBlock block0, PostUpProjectionBlock block1,
        double pairDropPathRate = 0.0) : base(name)
    {
        ArgumentNullException.ThrowIfNull(block0);
        ArgumentNullException.ThrowIfNull(block1);
        _block0 = block0;
        _block1 = block1;
        _dropPath = new DropPath("drop_path", pairDropPathRate);
        register_module("block0", _block0);
        register_module("block1", _block1);
        register_module("drop_path", _dropPath);
    }

    /// <summary>
    /// Builds a pair of width <paramref name="dim"/>: each PostUp block wraps a layer made by
    /// <paramref name="layerFactory"/> for the mode that <paramref name="mode"/> assigns to it.
    /// </summary>
    /// <param name="name">Module name.</param>
    /// <param name="dim">Model width D.</param>
    /// <param name="mode">Layer modes of the two blocks.</param>
    /// <param name="layerFactory">Makes the interaction layer of one block for a given mode.</param>
    /// <param name="dropPathRate">Drop-path rate inside each PostUp block (same for every block, no depth ramp).</param>
    /// <param name="layerScaleInit">LayerScale init inside the PostUp blocks, or null for none.</param>
    /// <param name="pairDropPathRate">Outer drop path on the pair's update.</param>
    /// <param name="normEps">Epsilon of the RMS norms.</param>
    public static PlstmVisionBlockPair Create(string name, long dim, PlstmBlockMode mode,
        Func<Plstm2DMode, nn.Module<Tensor, Tensor>> layerFactory, double dropPathRate = 0.0,
        double? layerScaleInit = null, double pairDropPathRate = 0.0, double normEps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(layerFactory);
        var (mode0, mode1) = Modes(mode);
        var block0 = new PostUpProjectionBlock("block0", dim, layerFactory(mode0), dropPathRate, layerScaleInit, normEps);
        var block1 = new PostUpProjectionBlock("block1", dim, layerFactory(mode1), dropPathRate, layerScaleInit, normEps);
        return new PlstmVisionBlockPair(name, block0, block1, pairDropPathRate);
    }

    /// <summary>The layer modes of block0 and block1 for a pair layout.</summary>
    public static (Plstm2DMode First, Plstm2DMode Second) Modes(PlstmBlockMode mode) => mode switch
    {
        PlstmBlockMode.PD => (Plstm2DMode.P, Plstm2DMode.D),
        PlstmBlockMode.DP => (Plstm2DMode.D, Plstm2DMode.P),
        PlstmBlockMode.PP => (Plstm2DMode.P, Plstm2DMode.P),
        PlstmBlockMode.DD => (Plstm2DMode.D, Plstm2DMode.D),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown block mode"),
    };

    /// <summary>The first PostUp block.</summary>
    public PostUpProjectionBlock Block0 => _block0;

    /// <summary>The second PostUp block.</summary>
    public PostUpProjectionBlock Block1 => _block1;

    /// <summary>Probability of the outer drop path on the pair's update.</summary>
    public double PairDropPathRate => _dropPath.Probability;

    /// <summary><c>[B, X, Y, D]</c> → <c>[B, X, Y, D]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        var x2 = _block1.forward(_block0.forward(x));                                    // [B, X, Y, D]
        // The pair's drop path is the identity in evaluation and at rate 0 (every config): then x + (x2 − x) is x2 up to
        // rounding, and forming it cost two full-size passes forward and two backward per pair (0.2–0.3 ms of a
        // 512-px pLSTM-ViT-T step on an H200).
        if (!_dropPath.IsActive) return x2.MoveToOuterDisposeScope();
        // Dropping the whole pair for a sample means returning its input unchanged.
        return (x + _dropPath.forward(x2 - x)).MoveToOuterDisposeScope();
    }
}
