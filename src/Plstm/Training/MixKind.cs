namespace Plstm.Training;

/// <summary>Which mixing a batch received.</summary>
public enum MixKind
{
    /// <summary>Unmixed.</summary>
    None,

    /// <summary>Mixup: a convex combination of two images and their targets.</summary>
    Mixup,

    /// <summary>CutMix: a box pasted from the partner image; the label weight is the kept area.</summary>
    Cutmix,
}
