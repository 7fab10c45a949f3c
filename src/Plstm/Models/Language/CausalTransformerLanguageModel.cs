using Plstm.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Plstm.Models.Language;

/// <summary>
/// Byte-level causal transformer, the baseline of <see cref="PlstmLanguageModel"/>: byte embedding (256 → D) + learnable
/// absolute position embedding <c>[MaxContext, D]</c> → causal <see cref="Plstm.Blocks.TransformerBlock"/>s → final RMS norm → untied
/// head D → 256 (with bias). Tokens <c>[B, T]</c>, 1 ≤ T ≤ MaxContext → logits <c>[B, T, 256]</c>; causal.
/// </summary>
/// <remarks>
/// <para>Parameter names: <c>embedding.weight [256, D]</c>, <c>pos_embed [MaxContext, D]</c>,
/// <c>block_stack.blocks.{i}.*</c> (the <see cref="TransformerBlock"/> names), <c>norm.scale</c>,
/// <c>head.{weight,bias}</c>. Init: embedding, position embedding and head weight SmallInit (fan D), head bias 0.</para>
/// <para>Decoding (<see cref="StartDecoding"/>) re-runs the last ≤ MaxContext tokens for every new token (no KV cache):
/// O(context) per token; beyond MaxContext (or <see cref="DecodingWindow"/>) the window slides (absolute positions restart at the window's start).</para>
/// </remarks>
public sealed class CausalTransformerLanguageModel : ByteLanguageModel
{
    [ComponentName(Name = "embedding")]
    private readonly Embedding _embedding;
    [ComponentName(Name = "pos_embed")]
    private readonly Parameter _posEmbed;
    [ComponentName(Name = "block_stack")]
    private readonly BlockStack _blockStack;
    [ComponentName(Name = "norm")]
    private readonly RmsNorm _norm;
    [ComponentName(Name = "head")]
    private readonly Linear _head;

    /// <summary>Creates a freshly initialised float32 model on the CPU.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentException">An invalid configuration.</exception>
    public CausalTransformerLanguageModel(CausalTransformerLanguageModelConfig config,
        string name = "causal_transformer_language_model") : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _embedding = nn.Embedding(VocabSize, config.Dim);
        Initializers.SmallInit(_embedding.weight!, fan: config.Dim);
        _posEmbed = new Parameter(empty(config.MaxContext, config.Dim, dtype: ScalarType.Float32));
        Initializers.SmallInit(_posEmbed, fan: config.Dim);
        var blocks = Enumerable.Range(0, config.NumBlocks)
            .Select(i => (nn.Module<Tensor, Tensor>)new TransformerBlock(
                i.ToString(System.Globalization.CultureInfo.InvariantCulture), config.Dim, config.NumHeads,
                config.DropPathRate, config.LayerScaleInit, config.NormEps, causal: true))
            .ToArray();
        _blockStack = new BlockStack("block_stack", blocks);
        _norm = new RmsNorm("norm", config.Dim, config.NormEps);
        _head = nn.Linear(config.Dim, VocabSize, hasBias: true);
        Initializers.SmallInit(_head.weight!, fan: config.Dim);
        Initializers.Zeros(_head.bias!);
        register_module("embedding", _embedding);
        register_parameter("pos_embed", _posEmbed);
        register_module("block_stack", _blockStack);
        register_module("norm", _norm);
        register_module("head", _head);
    }

    /// <summary>The configuration the model was built from.</summary>
    public CausalTransformerLanguageModelConfig Config { get; }

    /// <inheritdoc/>
    public override int Dim => Config.Dim;

    /// <inheritdoc/>
    public override int? MaxContext => Config.MaxContext;

    /// <summary>
    /// How many of the most recent tokens decoding (<see cref="StartDecoding"/>) conditions on: null (default) =
    /// <see cref="MaxContext"/>. Set it to the sequence length the model was trained with: position embeddings beyond
    /// it were never trained, so a wider window would feed the model untrained positions.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value outside 1…MaxContext.</exception>
    public int? DecodingWindow
    {
        get => _decodingWindow;
        set
        {
            if (value is int w && (w < 1 || w > Config.MaxContext))
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"The decoding window must be in 1…{Config.MaxContext} (the model's maximal context).");
            _decodingWindow = value;
        }
    }

    private int? _decodingWindow;

    /// <summary>Tokens <c>[B, T]</c> (int64, 0…255, T ≤ MaxContext) → logits <c>[B, T, 256]</c>.</summary>
    /// <exception cref="ArgumentException">Invalid tokens or T &gt; MaxContext.</exception>
    public override Tensor forward(Tensor tokens)
    {
        ValidateTokens(tokens);
        long length = tokens.shape[1];
        if (length > Config.MaxContext)
            throw new ArgumentException(
                $"The sequence has {length} tokens, more than this model's maximal context {Config.MaxContext}.", nameof(tokens));
        using var scope = NewDisposeScope();
        var pos = get_parameter("pos_embed")!;                                          // Module.to may swap it
        var h = _embedding.forward(tokens) + pos.narrow(0, 0, length).to_type(_embedding.weight!.dtype); // [B, T, D]
        h = _blockStack.forward(h);
        return _head.forward(_norm.forward(h)).MoveToOuterDisposeScope();               // [B, T, 256]
    }

    /// <inheritdoc/>
    public override ILanguageModelDecoder StartDecoding(Tensor prompt, out Tensor nextLogits)
    {
        ValidateTokens(prompt, nameof(prompt));
        var decoder = new WindowDecoder(this, prompt);
        nextLogits = decoder.LastLogits();
        return decoder;
    }

    private sealed class WindowDecoder : ILanguageModelDecoder
    {
        private readonly CausalTransformerLanguageModel _model;
        private Tensor _window;                                                          // [B, ≤ MaxContext]

        public WindowDecoder(CausalTransformerLanguageModel model, Tensor prompt)
        {
            _model = model;
            _window = Crop(prompt.clone()).DetachFromDisposeScope();
            BatchSize = prompt.shape[0];
            Position = prompt.shape[1];
        }

        public long BatchSize { get; }

        public long Position { get; private set; }

        public Tensor Step(Tensor token)
        {
            ValidateStepTokens(token, BatchSize);
            var next = Crop(cat(new[] { _window, token.unsqueeze(1).to(_window.device) }, 1)).DetachFromDisposeScope();
            _window.Dispose();
            _window = next;
            Position++;
            return LastLogits();
        }

        public Tensor LastLogits()
        {
            using var scope = NewDisposeScope();
            var logits = _model.forward(_window);                                       // [B, T, 256]
            return logits.select(1, logits.shape[1] - 1).contiguous().MoveToOuterDisposeScope();
        }

        private Tensor Crop(Tensor t)
        {
            long max = _model.DecodingWindow ?? _model.Config.MaxContext;
            if (t.shape[1] <= max) return t;
            var cropped = t.narrow(1, t.shape[1] - max, max).contiguous();
            t.Dispose();
            return cropped;
        }

        public void Dispose() => _window.Dispose();
    }
}
