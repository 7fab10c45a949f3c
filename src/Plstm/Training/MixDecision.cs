namespace Plstm.Training;

/// <summary>
/// The random choices for one batch of <see cref="MixupCutmix"/>: which mix, the partner permutation, the weight of
/// each sample's own target, and (CutMix) the pasted box.
/// </summary>
/// <param name="Kind">The mix applied.</param>
/// <param name="LabelWeight">Weight of the sample's own target; the partner's is <c>1 − LabelWeight</c>. For CutMix the
/// fraction of pixels kept from the sample itself. 1 for <see cref="MixKind.None"/>.</param>
/// <param name="Permutation">Sample i is mixed with sample <c>Permutation[i]</c>.</param>
/// <param name="Top">CutMix box: first row.</param>
/// <param name="Left">CutMix box: first column.</param>
/// <param name="BoxHeight">CutMix box height in pixels (0 for other kinds).</param>
/// <param name="BoxWidth">CutMix box width in pixels (0 for other kinds).</param>
public sealed record MixDecision(MixKind Kind, double LabelWeight, IReadOnlyList<int> Permutation, int Top, int Left,
    int BoxHeight, int BoxWidth);
