using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Models.Language;

/// <summary>
/// A byte-level causal language model: tokens <c>[B, T]</c> (int64 bytes 0…255) → next-byte logits
/// <c>[B, T, 256]</c>, where the logits at position t depend on tokens 0…t only. Base of
/// <see cref="PlstmLanguageModel"/> and <see cref="CausalTransformerLanguageModel"/>.
/// </summary>
public abstract class ByteLanguageModel : nn.Module<Tensor, Tensor>
{
    /// <summary>Vocabulary size: one token per byte value.</summary>
    public const int VocabSize = 256;

    /// <summary>Creates the module.</summary>
    private protected ByteLanguageModel(string name) : base(name)
    {
    }

    /// <summary>Model width D.</summary>
    public abstract int Dim { get; }

    /// <summary>The longest input <see cref="nn.Module{T, TResult}.forward"/> accepts (null = unbounded).</summary>
    public abstract int? MaxContext { get; }

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>
    /// Starts autoregressive decoding: consumes <paramref name="prompt"/> <c>[B, T]</c> (T ≥ 1) and returns a decoder
    /// positioned after it, with the logits for the next token <c>[B, 256]</c> in <paramref name="nextLogits"/>.
    /// Inference path (no drop path); call under <c>no_grad</c> and in eval mode.
    /// </summary>
    public abstract ILanguageModelDecoder StartDecoding(Tensor prompt, out Tensor nextLogits);

    /// <summary>
    /// Checks that <paramref name="tokens"/> is an int64 <c>[B, T]</c> tensor with B, T ≥ 1 and values in 0…255.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank, dtype, empty axis or a value outside 0…255.</exception>
    public static void ValidateTokens(Tensor tokens, string paramName = "tokens")
    {
        ArgumentNullException.ThrowIfNull(tokens, paramName);
        string got = "[" + string.Join(", ", tokens.shape) + "]";
        if (tokens.dim() != 2)
            throw new ArgumentException($"Expected tokens [B, T], got a tensor of rank {tokens.dim()} {got}.", paramName);
        if (tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"Expected int64 tokens [B, T], got dtype {tokens.dtype} {got}.", paramName);
        if (tokens.shape[0] < 1 || tokens.shape[1] < 1)
            throw new ArgumentException($"Expected tokens [B, T] with B, T ≥ 1, got {got}.", paramName);
        CheckRange(tokens, paramName);
    }

    /// <summary>Checks one position of tokens, <c>[B]</c> int64 in 0…255.</summary>
    /// <exception cref="ArgumentException">Wrong rank, dtype, batch size or value.</exception>
    public static void ValidateStepTokens(Tensor token, long batch, string paramName = "token")
    {
        ArgumentNullException.ThrowIfNull(token, paramName);
        if (token.dim() != 1 || token.shape[0] != batch || token.dtype != ScalarType.Int64)
            throw new ArgumentException(
                $"Expected int64 tokens [B = {batch}], got {token.dtype} [{string.Join(", ", token.shape)}].", paramName);
        CheckRange(token, paramName);
    }

    private static void CheckRange(Tensor tokens, string paramName)
    {
        using var scope = NewDisposeScope();
        long min = tokens.min().item<long>(), max = tokens.max().item<long>();
        if (min < 0 || max >= VocabSize)
            throw new ArgumentException(
                $"Token values must be bytes 0…{VocabSize - 1}, got values in [{min}, {max}].", paramName);
    }
}

/// <summary>
/// An autoregressive decoding session (<see cref="ByteLanguageModel.StartDecoding"/>): feed one token per sequence,
/// get the logits for the next one. Owns its state; dispose it.
/// </summary>
public interface ILanguageModelDecoder : IDisposable
{
    /// <summary>Batch size B.</summary>
    long BatchSize { get; }

    /// <summary>Number of tokens consumed so far (prompt included).</summary>
    long Position { get; }

    /// <summary>Consumes <paramref name="token"/> <c>[B]</c> (int64) and returns the next-token logits <c>[B, 256]</c>.</summary>
    Tensor Step(Tensor token);
}
