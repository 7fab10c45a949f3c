using Plstm.Ops.TwoD;

namespace Plstm.Cli.Bench;

/// <summary>
/// What one <c>bench op</c> row runs: a form of the fused 2D pLSTM operator (<see cref="Plstm2DForm"/>, taken by name
/// so that forms added later work without changes here), <c>masked</c>, the kernel form's masked attention alone
/// (<see cref="MaskedAttentionCase"/>: the part after the gate walk), the gate alone (<c>walk</c>, <c>walk-d</c>,
/// <c>single-path</c>: <see cref="GateCase"/>, CUDA only), or <c>sdpa</c>, libtorch's fused
/// <c>scaled_dot_product_attention</c> on the same tokens.
/// </summary>
/// <param name="Name">Display name: the form's name in lower case, <c>masked</c>, a gate target's name or <c>sdpa</c>.</param>
/// <param name="Form">The operator form, or null for the masked attention and for attention.</param>
public sealed record OpTarget(string Name, Plstm2DForm? Form)
{
    /// <summary>The name of the attention target.</summary>
    public const string SdpaName = "sdpa";

    /// <summary>The name of the masked attention target.</summary>
    public const string MaskedName = "masked";

    /// <summary>Every operator form except the cell-by-cell <see cref="Plstm2DForm.Naive"/> oracle (far too slow at
    /// these sizes), then <c>sdpa</c> (<c>masked</c> only when asked for).</summary>
    public static IReadOnlyList<OpTarget> Defaults =>
        Enum.GetValues<Plstm2DForm>().Where(f => f != Plstm2DForm.Naive).Select(Of)
            .Append(new OpTarget(SdpaName, null)).ToArray();

    /// <summary>The names <c>--forms</c> accepts.</summary>
    public static IEnumerable<string> KnownNames =>
        Enum.GetValues<Plstm2DForm>().Select(f => f.ToString().ToLowerInvariant()).Append(MaskedName)
            .Concat(GateCase.Names).Append(SdpaName);

    /// <summary>Parses a comma list of form names (case-insensitive), <c>masked</c>, the gate targets and <c>sdpa</c>;
    /// duplicates are dropped.</summary>
    /// <exception cref="CliUsageException">An unknown name (the message lists the known ones).</exception>
    public static IReadOnlyList<OpTarget> Parse(string option, string? text) =>
        BenchLists.Entries(option, text).Select(entry =>
        {
            if (string.Equals(entry, SdpaName, StringComparison.OrdinalIgnoreCase)) return new OpTarget(SdpaName, null);
            if (string.Equals(entry, MaskedName, StringComparison.OrdinalIgnoreCase)) return new OpTarget(MaskedName, null);
            if (GateCase.Names.FirstOrDefault(n => string.Equals(entry, n, StringComparison.OrdinalIgnoreCase)) is { } gate)
                return new OpTarget(gate, null);
            // Enum.TryParse also accepts numbers ("1", "7") and flag combinations: only defined names count.
            if (char.IsLetter(entry[0]) && Enum.TryParse(entry, ignoreCase: true, out Plstm2DForm form) && Enum.IsDefined(form))
                return Of(form);
            throw new CliUsageException($"{option}: unknown form '{entry}'; known: {string.Join(", ", KnownNames)}.");
        }).Distinct().ToArray();

    private static OpTarget Of(Plstm2DForm form) => new(form.ToString().ToLowerInvariant(), form);
}
