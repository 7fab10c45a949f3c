namespace Plstm.Models;

/// <summary>How the stages of a <see cref="ConvStem"/> halve the resolution.</summary>
public enum ConvStemKind
{
    /// <summary>3×3 convolution at full resolution, then 2×2 max-pool and ReLU (a "hybrid" ViT's ResNet-like stem). The
    /// default, and what every checkpoint made before the kinds existed holds.</summary>
    MaxPool,

    /// <summary>3×3 convolution with stride 2, then ReLU: the convolutional stem of Xiao et al. 2021 ("Early
    /// convolutions help transformers see better"). Each convolution computes a quarter of the positions of the
    /// max-pool kind, and no position within a pooling window is discarded.</summary>
    Strided,
}
