namespace Plstm.Training.Language;

/// <summary>A validation result of a byte-level language model.</summary>
/// <param name="NatsPerByte">Mean next-byte cross-entropy in nats.</param>
/// <param name="Bytes">Number of predicted bytes it averages over.</param>
public sealed record LanguageModelEvaluation(double NatsPerByte, long Bytes)
{
    /// <summary>The same loss in bits per byte: nats / ln 2.</summary>
    public double BitsPerByte => NatsPerByte / Math.Log(2.0);
}
