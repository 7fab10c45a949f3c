namespace Plstm.Interop;

/// <summary>How <see cref="ModelCheckpoint"/> maps a stored state onto a model.</summary>
public sealed record CheckpointLoadOptions
{
    /// <summary>The default: strict, nothing resized.</summary>
    public static CheckpointLoadOptions Default { get; } = new();

    /// <summary>
    /// True (default): every model key must be in the checkpoint and every checkpoint key in the model. False: keys
    /// only on one side are ignored (still, a shared key with another shape always fails).
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>
    /// When true, a stored <c>pos_embed.embed</c> <c>[1, X, Y, D]</c> whose grid differs from the model's is resized
    /// bicubically to the model's grid (what the reference's <c>pLSTMVisionModel.load_state_dict</c> does, e.g. to
    /// fine-tune a 192 px checkpoint at 224 px). False (default): such a key is a shape mismatch.
    /// </summary>
    public bool ResizePositionEmbedding { get; init; }

    /// <summary>
    /// Prefixes stripped from checkpoint keys before matching, the first that applies (e.g. <c>module.</c> from
    /// DataParallel or <c>_orig_mod.</c> from <c>torch.compile</c>). Empty by default.
    /// </summary>
    public IReadOnlyList<string> StripPrefixes { get; init; } = [];
}
