using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Blocks;

/// <summary>
/// The feed-forward branch of the PostUp and transformer blocks (models §6.1): <c>Down(GELU(Up(x)))</c> with Up
/// <c>D → inner</c>, exact (erf) GELU and Down <c>inner → D</c>; both Linear layers have a bias.
/// Reference names: <c>upproj</c> and <c>downproj</c>.
/// </summary>
/// <remarks>
/// In the reference the two projections are direct children of the enclosing block (<c>…block0.upproj.weight</c>),
/// not of a separate MLP module, so the blocks register the Linear layers made by <see cref="CreateProjections"/>
/// under their own names and call <see cref="Apply"/>; this module exists for standalone use and gives the same names
/// one level down.
/// Init: weights SmallInit with fan = in_features (D for Up, inner for Down; the torch reference's axis −1 fan, the
/// recommendation of §6.6), biases 0.
/// </remarks>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    // Each module field carries its registered (reference) name: TorchSharp's field scan would otherwise register
    // it a second time under the C# field name and the state_dict keys would change.
    [ComponentName(Name = "upproj")]
    private readonly Linear _up;
    [ComponentName(Name = "downproj")]
    private readonly Linear _down;

    /// <summary>Creates the MLP for width <paramref name="dim"/> with the reference's inner width.</summary>
    public Mlp(string name, long dim) : base(name)
    {
        (_up, _down) = CreateProjections(dim);
        register_module("upproj", _up);
        register_module("downproj", _down);
    }

    /// <summary>The up projection <c>D → inner</c>.</summary>
    public Linear UpProjection => _up;

    /// <summary>The down projection <c>inner → D</c>.</summary>
    public Linear DownProjection => _down;

    /// <summary>
    /// Inner width: 4·D rounded up to a multiple of 64, written as the reference does:
    /// <c>(floor((4D − 1) / 64) + 1) · 64</c> (= 4D for D = 192, 384, 768).
    /// </summary>
    public static long InnerDim(long dim)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dim must be positive");
        return ((4 * dim - 1) / 64 + 1) * 64;
    }

    /// <summary>Creates and initialises the Up and Down Linear layers for width <paramref name="dim"/>.</summary>
    public static (Linear Up, Linear Down) CreateProjections(long dim)
    {
        long inner = InnerDim(dim);
        var up = nn.Linear(dim, inner, hasBias: true);
        var down = nn.Linear(inner, dim, hasBias: true);
        Initializers.SmallInit(up.weight!, fan: dim);
        Initializers.Zeros(up.bias!);
        Initializers.SmallInit(down.weight!, fan: inner);
        Initializers.Zeros(down.bias!);
        return (up, down);
    }

    /// <summary><c>[…, D]</c> → <c>[…, D]</c>: <c>down(GELU(up(x)))</c>, GELU exact as in torch (JAX uses tanh).</summary>
    public static Tensor Apply(Tensor x, Linear up, Linear down)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(up);
        ArgumentNullException.ThrowIfNull(down);
        using var scope = NewDisposeScope();
        // The parameters cast to x's dtype (no-ops unless a lower compute dtype runs: VisionModel.ComputeDtype).
        var hidden = nn.functional.gelu(Layers.Dtypes.LinearIn(x, up));                 // [..., inner]
        return Layers.Dtypes.LinearIn(hidden, down).MoveToOuterDisposeScope();          // [..., D]
    }

    /// <inheritdoc cref="Apply"/>
    public override Tensor forward(Tensor x) => Apply(x, _up, _down);
}
