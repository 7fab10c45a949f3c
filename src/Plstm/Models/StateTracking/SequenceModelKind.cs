namespace Plstm.Models.StateTracking;

/// <summary>The architecture of a <see cref="StateTrackingModel"/>.</summary>
public enum SequenceModelKind
{
    /// <summary>pLSTM blocks (<see cref="PlstmSequenceModel"/>).</summary>
    Plstm,

    /// <summary>Causal transformer blocks with sinusoidal positions (<see cref="TransformerSequenceModel"/>).</summary>
    Transformer,
}
