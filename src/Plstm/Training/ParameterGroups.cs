using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Splits a model's trainable parameters into the weight-decay group and the no-decay group (models.md §7): decoupled
/// weight decay applies only to parameters whose name ends in <c>weight</c> or <c>kernel</c> — linear and conv
/// matrices, the q/k/v weights, gate weights (<c>eigenvalues_weight</c>) and the P-mode <c>orientation_weight</c>.
/// Everything else is not decayed: biases (<c>…bias</c>), RMS-norm and LayerScale <c>scale</c>s, the position
/// embedding (<c>pos_embed.embed</c>) and the class token (<c>cls_token</c>).
/// </summary>
/// <remarks>
/// The rule is about names, as in the reference, so it only matches intent for modules that follow its naming: a
/// <c>torch.nn.LayerNorm</c>'s affine scale is called <c>weight</c> and would be decayed (the models of this library
/// use <c>scale</c>). Pass a custom predicate to <see cref="Split(nn.Module, Func{string, Parameter, bool}?)"/> for
/// other conventions. Parameters with <c>requires_grad = false</c> (frozen) are in neither group.
/// </remarks>
public sealed class ParameterGroups
{
    private ParameterGroups(IReadOnlyList<(string Name, Parameter Parameter)> decay,
        IReadOnlyList<(string Name, Parameter Parameter)> noDecay)
    {
        Decay = decay;
        NoDecay = noDecay;
    }

    /// <summary>Parameters that receive weight decay, in registration order.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Decay { get; }

    /// <summary>Parameters without weight decay, in registration order.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NoDecay { get; }

    /// <summary>All trainable parameters: the decay group, then the no-decay group (the optimiser's order).</summary>
    public IEnumerable<(string Name, Parameter Parameter)> All => Decay.Concat(NoDecay);

    /// <summary>The default rule: true when the dotted name ends in <c>weight</c> or <c>kernel</c>.</summary>
    public static bool IsDecayed(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.EndsWith("weight", StringComparison.Ordinal) || name.EndsWith("kernel", StringComparison.Ordinal);
    }

    /// <summary>Splits <paramref name="model"/>'s trainable parameters.</summary>
    /// <param name="model">The model.</param>
    /// <param name="decay">Decides decay from (dotted name, parameter); null for <see cref="IsDecayed"/>.</param>
    public static ParameterGroups Split(nn.Module model, Func<string, Parameter, bool>? decay = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        decay ??= (name, _) => IsDecayed(name);
        var withDecay = new List<(string, Parameter)>();
        var withoutDecay = new List<(string, Parameter)>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!parameter.requires_grad) continue;
            (decay(name, parameter) ? withDecay : withoutDecay).Add((name, parameter));
        }
        return new ParameterGroups(withDecay, withoutDecay);
    }
}
