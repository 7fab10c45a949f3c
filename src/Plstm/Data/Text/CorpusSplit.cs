namespace Plstm.Data.Text;

/// <summary>The two parts of a <see cref="ByteCorpus"/>, split by position.</summary>
public enum CorpusSplit
{
    /// <summary>The first 90 % of the bytes.</summary>
    Train,

    /// <summary>The last 10 % of the bytes.</summary>
    Validation,
}
