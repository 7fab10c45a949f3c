using Plstm.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Models.StateTracking;

/// <summary>
/// A causal per-position classifier for state-tracking tasks: tokens <c>[B, T]</c> (int64 in 0 … VocabSize − 1) →
/// logits <c>[B, T, NumClasses]</c>, where position t depends on tokens 0 … t only. Embedding → the subclass's block
/// stack → final RMS norm → head Linear(D → NumClasses, bias). Base of <see cref="PlstmSequenceModel"/> and
/// <see cref="TransformerSequenceModel"/>, which differ only in the blocks (and the transformer's positions).
/// </summary>
/// <remarks>
/// <para>Read-out delay (<see cref="StateTrackingModelConfig.ReadoutDelay"/> = 1, the default): one extra "read" token
/// (id VocabSize, its own embedding row) is appended, the blocks run over T + 1 positions, and the logits for position
/// t are taken from position t + 1. Why: the pLSTM layer's output at t reads the state <i>before</i> position t
/// (<c>y_t = M_t q_t C_{t−1} + D_t (q_t·k_t) v_t</c>, models §4), so without a delay the running product through t must
/// be formed by the MLP from a representation of s_{t−1} and the token g_t — for S5 a 120 × 120 look-up that the
/// transitions could otherwise do exactly. With the delay the output for t reads C_t = T(g_t) C_{t−1} + …, a linear
/// image of the state. The logits for t then also see token t + 1, which is independent of targets 0 … t and so
/// carries no information about them; every model of a comparison uses the same delay.</para>
/// </remarks>
/// <remarks>Start token (<see cref="StateTrackingModelConfig.StartToken"/>, default on): one token with its own embedding
/// row is put before the sequence and its output dropped, so the model can mark the first position; see the config for
/// why the pLSTM needs it on S5.</remarks>
/// <remarks>Parameter names: <c>embedding.weight</c>, <c>block_stack.blocks.{i}.*</c> (the block's own names),
/// <c>norm.scale</c>, <c>head.{weight,bias}</c>. Init as the language models: embedding and head weight SmallInit
/// (fan D), head bias 0.</remarks>
public abstract class StateTrackingModel : nn.Module<Tensor, Tensor>
{
    // Each module field carries its registered name: TorchSharp's field scan would otherwise register it a second
    // time under the C# field name.
    [ComponentName(Name = "embedding")]
    private readonly Embedding _embedding;
    [ComponentName(Name = "block_stack")]
    private readonly BlockStack _blockStack;
    [ComponentName(Name = "norm")]
    private readonly RmsNorm _norm;
    [ComponentName(Name = "head")]
    private readonly Linear _head;

    /// <summary>Builds the shared parts around <paramref name="blocks"/> (which the model then owns).</summary>
    private protected StateTrackingModel(string name, StateTrackingModelConfig config,
        IEnumerable<nn.Module<Tensor, Tensor>> blocks) : base(name)
    {
        Config = config;
        _embedding = nn.Embedding(config.EmbeddingRows, config.Dim);
        Initializers.SmallInit(_embedding.weight!, fan: config.Dim);
        _blockStack = new BlockStack("block_stack", blocks);
        _norm = new RmsNorm("norm", config.Dim, config.NormEps);
        _head = nn.Linear(config.Dim, config.NumClasses, hasBias: true);
        Initializers.SmallInit(_head.weight!, fan: config.Dim);
        Initializers.Zeros(_head.bias!);
        register_module("embedding", _embedding);
        register_module("block_stack", _blockStack);
        register_module("norm", _norm);
        register_module("head", _head);
    }

    /// <summary>The configuration the model was built from.</summary>
    public StateTrackingModelConfig Config { get; }

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>A freshly initialised float32 CPU model of <paramref name="config"/>'s kind.</summary>
    /// <exception cref="ArgumentException">An invalid configuration (the field is named).</exception>
    public static StateTrackingModel Create(StateTrackingModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return config.Kind == SequenceModelKind.Plstm
            ? new PlstmSequenceModel(config)
            : new TransformerSequenceModel(config);
    }

    /// <summary>Tokens <c>[B, T]</c> → logits <c>[B, T, NumClasses]</c>.</summary>
    /// <exception cref="ArgumentException">Not int64 <c>[B, T]</c> with B, T ≥ 1 and values in 0 … VocabSize − 1.</exception>
    public override Tensor forward(Tensor tokens)
    {
        ValidateTokens(tokens);
        using var scope = NewDisposeScope();
        long length = tokens.shape[1];
        long batch = tokens.shape[0];
        int start = Config.StartToken ? 1 : 0;
        var parts = new List<Tensor>(3);
        if (start == 1)
            parts.Add(full(batch, 1, (long)Config.StartTokenId, dtype: ScalarType.Int64, device: tokens.device));
        parts.Add(tokens);
        if (Config.ReadoutDelay > 0)
            parts.Add(full(batch, Config.ReadoutDelay, (long)Config.ReadTokenId, dtype: ScalarType.Int64, device: tokens.device));
        var input = parts.Count == 1 ? tokens : cat(parts, 1);                           // [B, start + T + delay]
        var h = AddPositions(_embedding.forward(input));                                 // [B, start + T + delay, D]
        h = _blockStack.forward(h).narrow(1, start + Config.ReadoutDelay, length);       // [B, T, D]
        return _head.forward(_norm.forward(h)).MoveToOuterDisposeScope();               // [B, T, C]
    }

    /// <summary>Adds position information to the embedded tokens <c>[B, T, D]</c> (none by default: a recurrence is
    /// order-aware by itself).</summary>
    private protected virtual Tensor AddPositions(Tensor embedded) => embedded;

    private void ValidateTokens(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        string got = "[" + string.Join(", ", tokens.shape) + "]";
        if (tokens.dim() != 2 || tokens.dtype != ScalarType.Int64 || tokens.shape[0] < 1 || tokens.shape[1] < 1)
            throw new ArgumentException($"Expected int64 tokens [B, T] with B, T ≥ 1, got {tokens.dtype} {got}.", nameof(tokens));
        using var scope = NewDisposeScope();
        long min = tokens.min().item<long>(), max = tokens.max().item<long>();
        if (min < 0 || max >= Config.VocabSize)
            throw new ArgumentException(
                $"Token values must be in 0 … {Config.VocabSize - 1}, got values in [{min}, {max}].", nameof(tokens));
    }
}
