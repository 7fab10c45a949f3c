using Plstm.Blocks;
using Plstm.Layers.OneD;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Models.Language;

/// <summary>
/// Byte-level pLSTM language model: byte embedding (256 → D) → <see cref="PlstmLanguageModelConfig.NumBlocks"/>
/// <see cref="PostUpProjectionBlock"/>s around <see cref="Plstm1DLayer"/> → final <see cref="RmsNorm"/> → untied
/// head Linear D → 256 (with bias). Tokens <c>[B, T]</c> int64 → logits <c>[B, T, 256]</c>; causal.
/// </summary>
/// <remarks>
/// <para>Three ways to run it, all equal up to float rounding:</para>
/// <list type="number">
/// <item><see cref="forward"/>: the parallel (chunkwise) form over the whole sequence from a zero state (training);</item>
/// <item><see cref="Prefill(Tensor)"/> / <see cref="Forward(Tensor, LanguageModelState)"/>: the parallel form continuing
/// from a <see cref="LanguageModelState"/> and advancing it (pLSTM state AND convolution history), so a sequence can be
/// processed in segments;</item>
/// <item><see cref="Step"/>: one token per sequence in O(1), straight from the recurrence.</item>
/// </list>
/// <para>Parameter names: <c>embedding.weight [256, D]</c>, <c>block_stack.blocks.{i}.{norm,norm2}.scale</c>,
/// <c>block_stack.blocks.{i}.{upproj,downproj}.{weight,bias}</c>, <c>block_stack.blocks.{i}.interaction_module.*</c>
/// (the <see cref="Plstm1DLayer"/> names), <c>norm.scale</c>, <c>head.{weight,bias}</c>.
/// Init: embedding and head weight SmallInit (fan D), head bias 0, blocks as in their classes.</para>
/// <para>The streaming paths (<see cref="Prefill(Tensor)"/>, <see cref="Forward(Tensor, LanguageModelState)"/>,
/// <see cref="Step"/>) are inference paths: they apply the block formula without drop path.</para>
/// </remarks>
public sealed class PlstmLanguageModel : ByteLanguageModel
{
    // Each module field carries its registered name: TorchSharp's field scan would otherwise register it a second
    // time under the C# field name and the state_dict keys would change.
    [ComponentName(Name = "embedding")]
    private readonly Embedding _embedding;
    [ComponentName(Name = "block_stack")]
    private readonly BlockStack _blockStack;
    [ComponentName(Name = "norm")]
    private readonly RmsNorm _norm;
    [ComponentName(Name = "head")]
    private readonly Linear _head;

    private readonly BlockParts[] _parts;

    /// <summary>Creates a freshly initialised float32 model on the CPU.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentException">An invalid configuration.</exception>
    public PlstmLanguageModel(PlstmLanguageModelConfig config, string name = "plstm_language_model") : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _embedding = nn.Embedding(VocabSize, config.Dim);
        Initializers.SmallInit(_embedding.weight!, fan: config.Dim);
        var layerConfig = config.LayerConfig();
        var blocks = new List<nn.Module<Tensor, Tensor>>(config.NumBlocks);
        for (int i = 0; i < config.NumBlocks; i++)
            blocks.Add(new PostUpProjectionBlock(i.ToString(System.Globalization.CultureInfo.InvariantCulture), config.Dim,
                new Plstm1DLayer("interaction_module", layerConfig), config.DropPathRate, layerScaleInit: null,
                normEps: config.NormEps));
        _blockStack = new BlockStack("block_stack", blocks);
        _norm = new RmsNorm("norm", config.Dim, config.NormEps);
        _head = nn.Linear(config.Dim, VocabSize, hasBias: true);
        Initializers.SmallInit(_head.weight!, fan: config.Dim);
        Initializers.Zeros(_head.bias!);
        register_module("embedding", _embedding);
        register_module("block_stack", _blockStack);
        register_module("norm", _norm);
        register_module("head", _head);
        _parts = blocks.Select(b => BlockParts.Of((PostUpProjectionBlock)b)).ToArray();
    }

    /// <summary>The configuration the model was built from.</summary>
    public PlstmLanguageModelConfig Config { get; }

    /// <inheritdoc/>
    public override int Dim => Config.Dim;

    /// <summary>Unbounded: the pLSTM has no maximal context.</summary>
    public override int? MaxContext => null;

    /// <summary>The blocks' pLSTM layers, in order.</summary>
    public IReadOnlyList<Plstm1DLayer> Layers => _parts.Select(p => p.Layer).ToArray();

    /// <summary>Tokens <c>[B, T]</c> (int64, 0…255) → logits <c>[B, T, 256]</c>, parallel form from a zero state.</summary>
    /// <exception cref="ArgumentException">Invalid tokens (see <see cref="ByteLanguageModel.ValidateTokens"/>).</exception>
    public override Tensor forward(Tensor tokens)
    {
        ValidateTokens(tokens);
        using var scope = NewDisposeScope();
        var h = _blockStack.forward(Embed(tokens));                                      // [B, T, D]
        return _head.forward(_norm.forward(h)).MoveToOuterDisposeScope();               // [B, T, 256]
    }

    /// <summary>
    /// A fresh (zero) state for <paramref name="batch"/> sequences: what position 0 starts from. dtype and device
    /// default to the embedding's.
    /// </summary>
    public LanguageModelState InitialState(long batch, ScalarType? dtype = null, Device? device = null)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be positive");
        var type = dtype ?? _embedding.weight!.dtype;
        var dev = device ?? _embedding.weight!.device;
        var cells = _parts.Select(p => p.Layer.ZeroState(batch, type, dev)).ToArray();
        var histories = _parts.Select(p => p.Layer.ZeroConvolutionHistory(batch, type, dev)).ToArray();
        return new LanguageModelState(cells, histories, batch, 0);
    }

    /// <summary>Runs <paramref name="tokens"/> <c>[B, T]</c> from a fresh state and returns the state after them.</summary>
    public LanguageModelState Prefill(Tensor tokens)
    {
        var state = Prefill(tokens, out var logits);
        logits.Dispose();
        return state;
    }

    /// <summary>
    /// Runs <paramref name="tokens"/> <c>[B, T]</c> from a fresh state (parallel form with final state) and returns the
    /// state after them; <paramref name="logits"/> gets the logits of every position <c>[B, T, 256]</c>.
    /// </summary>
    public LanguageModelState Prefill(Tensor tokens, out Tensor logits)
    {
        ValidateTokens(tokens);
        var state = InitialState(tokens.shape[0], _embedding.weight!.dtype, tokens.device);
        try
        {
            logits = Forward(tokens, state);
            return state;
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Parallel form continuing from <paramref name="state"/>: consumes <paramref name="tokens"/> <c>[B, T]</c>, returns
    /// their logits <c>[B, T, 256]</c> and advances the state (pLSTM states and convolution histories) past them.
    /// Gradients flow through the state when it requires them (truncated back-propagation through time).
    /// </summary>
    /// <exception cref="ArgumentException">Invalid tokens, or a state of another batch size or model.</exception>
    public Tensor Forward(Tensor tokens, LanguageModelState state)
    {
        ValidateTokens(tokens);
        CheckState(state, tokens.shape[0]);
        using var scope = NewDisposeScope();
        var h = Embed(tokens);                                                           // [B, T, D]
        for (int i = 0; i < _parts.Length; i++)
        {
            var p = _parts[i];
            var y = p.Layer.Forward(p.Norm.forward(h), state.CellStates[i], state.ConvolutionHistories[i],
                out var cell, out var history);
            state.Replace(i, cell, history);
            var x2 = h + y;
            h = x2 + Mlp.Apply(p.Norm2.forward(x2), p.Up, p.Down);
        }
        state.Advance(tokens.shape[1]);
        return _head.forward(_norm.forward(h)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One token per sequence in O(1): consumes <paramref name="token"/> <c>[B]</c> (int64, 0…255), advances
    /// <paramref name="state"/> by one position and returns the logits for the following token <c>[B, 256]</c>.
    /// Each layer applies the single-position recurrence (<see cref="Plstm1DLayer.Step"/>) with its convolution
    /// history; nothing of the prefix is re-run.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid token tensor, or a state of another batch size or model.</exception>
    public Tensor Step(Tensor token, LanguageModelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ValidateStepTokens(token, state.BatchSize);
        CheckState(state, state.BatchSize);
        using var scope = NewDisposeScope();
        var h = _embedding.forward(token);                                               // [B, D]
        for (int i = 0; i < _parts.Length; i++)
        {
            var p = _parts[i];
            var y = p.Layer.Step(p.Norm.forward(h), state.CellStates[i], state.ConvolutionHistories[i],
                out var cell, out var history);
            state.Replace(i, cell, history);
            var x2 = h + y;
            h = x2 + Mlp.Apply(p.Norm2.forward(x2), p.Up, p.Down);
        }
        state.Advance(1);
        return _head.forward(_norm.forward(h)).MoveToOuterDisposeScope();               // [B, 256]
    }

    /// <inheritdoc/>
    public override ILanguageModelDecoder StartDecoding(Tensor prompt, out Tensor nextLogits)
    {
        var state = Prefill(prompt, out var logits);
        using (logits)
            nextLogits = logits.select(1, logits.shape[1] - 1).contiguous();               // [B, 256]
        return new Decoder(this, state);
    }

    private Tensor Embed(Tensor tokens) => _embedding.forward(tokens);                  // [B, T, D]

    private void CheckState(LanguageModelState state, long batch)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.ThrowIfDisposed();
        if (state.NumLayers != _parts.Length)
            throw new ArgumentException(
                $"The state has {state.NumLayers} layers, the model {_parts.Length}: it belongs to another model.", nameof(state));
        if (state.BatchSize != batch)
            throw new ArgumentException($"The state is for batch size {state.BatchSize}, the tokens have {batch}.", nameof(state));
    }

    /// <summary>The children of one PostUp block that the streaming paths apply by hand.</summary>
    private sealed record BlockParts(RmsNorm Norm, RmsNorm Norm2, Linear Up, Linear Down, Plstm1DLayer Layer)
    {
        public static BlockParts Of(PostUpProjectionBlock block)
        {
            var children = block.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
            if (block.HasLayerScale)
                throw new InvalidOperationException("LayerScale is not supported by the language model's streaming paths.");
            return new BlockParts((RmsNorm)children["norm"], (RmsNorm)children["norm2"], (Linear)children["upproj"],
                (Linear)children["downproj"], (Plstm1DLayer)block.Layer);
        }
    }

    private sealed class Decoder(PlstmLanguageModel model, LanguageModelState state) : ILanguageModelDecoder
    {
        public long BatchSize => state.BatchSize;

        public long Position => state.Position;

        public Tensor Step(Tensor token) => model.Step(token, state);

        public void Dispose() => state.Dispose();
    }
}
