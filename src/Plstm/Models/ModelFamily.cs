namespace Plstm.Models;

/// <summary>The architecture a preset builds.</summary>
public enum ModelFamily
{
    /// <summary>pLSTM-ViT (<see cref="PlstmVisionModel"/>).</summary>
    Plstm,

    /// <summary>ViT baseline (<see cref="VisionTransformer"/>).</summary>
    Vit,
}
