using Plstm.Ops.OneD;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Plstm.Layers.OneD;

/// <summary>
/// The pLSTM layer for sequences (reference <c>pLSTM1DLayer</c>, models §4, operators §2.4). Input and output
/// <c>[B, T, D]</c>, any length T ≥ 1. Causal: the output at t depends on inputs 0 … t only.
/// </summary>
/// <remarks>
/// <para>Per position, from x and c = the causal depthwise convolution of x (<see cref="CausalConvolution1D"/>; which
/// parts read c is <see cref="Plstm1DLayerConfig.ConvolutionInputs"/>, by default S, T, M, D, Q, K and the passthrough;
/// V reads x): per head h the gates S <c>[JT, JK, JV]</c> = σ(·), T <c>[JT, JT]</c> (<see cref="TransitionGate"/>:
/// <c>U·diag(tanh 5λ)·V</c>, orthogonal U, V), M <c>[JO, JQ, JT]</c> = σ(·), D <c>[JO, JQ, JK, JV]</c> = σ(·), and
/// q <c>[DK, JQ]</c>, k <c>[DK, JK]</c>, v <c>[DV, JV]</c> (<see cref="QueryKeyValueProjection"/>, block-diagonal over
/// heads by default). Heads are folded into the batch (index b·H + h) and run through ONE call of
/// <see cref="Plstm1DChunked.Forward"/> (scale DK^−½): <c>C_t = T_t C_{t−1} + S_t k_t v_tᵀ</c>,
/// <c>y_t = M_t q_tᵀ C_{t−1} + D_t (q_t·k_t) v_t</c>. The output <c>[DV, JO]</c> of each head is flattened
/// (index dv·JO + jo), RMS-normalised per head (<see cref="MultiHeadRmsNorm"/> over DV·JO = D/H channels), heads are
/// concatenated head-major, projected D → D without bias, and <c>passthrough.scale ⊙ c</c> is added.</para>
/// <para>Padding: the layer never pads x. The reference zero-pads x to a power-of-two length before the convolution and
/// the projections; since everything is causal this cannot change the outputs of real positions, but it would make the
/// returned final state include the padded positions. Here the operator pads the already gated quantities internally
/// with zero k/v and identity transitions, so the final state is the state after the last real position
/// (clarification 10). The convolution pads K−1 zeros on the left only, so a prefix's outputs never depend on later
/// tokens.</para>
/// <para>Parameters (reference state_dict names, in the reference's order): <c>conv._conv.weight [D, 1, K]</c>,
/// <c>conv._conv.bias [D]</c>, <c>source.bias [H, JT, JK, JV]</c>, <c>transition.inproj_bias [H, JT, JT]</c>,
/// <c>transition.inproj_weight [H, 1, JT, JT, D]</c>, <c>transition.eigenvalues_bias [H, JT]</c>,
/// <c>transition.eigenvalues_weight [H, 1, JT, D]</c>, <c>transition.outproj_bias/_weight</c> (as inproj),
/// <c>mark.bias [H, JO, JQ, JT]</c>, <c>direct.bias [H, JO, JQ, JK, JV]</c>, <c>query/key.weight [1, DK, J, H, D/H]</c>,
/// <c>query/key.bias [H, DK, J]</c>, <c>value_.weight [1, DV, JV, H, D/H]</c>, <c>value_.bias [H, DV, JV]</c>,
/// <c>mhnorm.scale [H, DV·JO]</c>, <c>outprojection.weight [D, H·JO·DV]</c>, <c>passthrough.scale [D]</c> (optional
/// source/mark/direct weights when enabled). Parameters are cast to the input's dtype in the forward pass.</para>
/// <para>Streaming: <see cref="Forward(Tensor, Tensor?, Tensor?, out Tensor, out Tensor?)"/> carries the pLSTM state and
/// the convolution's last K − 1 inputs between segments, and <see cref="Step"/> runs one position in O(1) from the same
/// pair, straight from the recurrence; both equal the one-pass forward over the whole sequence.</para>
/// </remarks>
public sealed class Plstm1DLayer : nn.Module<Tensor, Tensor>
{
    // Field names are the reference state_dict names, declared in the reference's registration order (TorchSharp
    // registers fields in declaration order; null fields are skipped). Not readonly: Module.to(…) swaps through them.
    private CausalConvolution1D? conv;
    private SigmoidGate source;
    private TransitionGate transition;
    private SigmoidGate mark;
    private DirectGate direct;
    private QueryKeyValueProjection query;
    private QueryKeyValueProjection key;
    private QueryKeyValueProjection value_;
    private MultiHeadRmsNorm mhnorm;
    private Linear outprojection;
    private Passthrough? passthrough;

    /// <summary>Creates the layer with reference-initialised parameters (float32, CPU; use <c>.to(…)</c> to move).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="config">Layer configuration; validated here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentException">An invalid config field (<see cref="ArgumentException.ParamName"/> names it).</exception>
    public Plstm1DLayer(string name, Plstm1DLayerConfig config) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int d = config.InputDim, h = config.NumHeads;
        if (config.AdditionalConvolution)
            conv = new CausalConvolution1D("conv", d, config.ConvolutionKernelSize, config.ConvolutionBias);
        // The reference builds the S/T/M/D sub-layers with sub_heads = 1: every head's gates read all D channels.
        source = SigmoidGate.Source("source", h, d, 1, config.SourceBiasInit, config.SourceWeight, config.JT, config.JK, config.JV);
        transition = new TransitionGate("transition", h, d, 1, config.TransitionBiasInit, config.TransitionFactor,
            config.TransitionWeight, config.JT, config.TransitionSymmetric, config.OrthogonalizationFactor,
            config.OrthogonalizationOrder, config.OrthogonalizationEps);
        mark = SigmoidGate.Mark("mark", h, d, 1, config.MarkBiasInit, config.MarkWeight, config.JO, config.JQ, config.JT);
        direct = new DirectGate("direct", h, config.DirectBiasInit, config.JO, config.JQ, config.JK, config.JV, d, 1,
            config.DirectWeight);
        int s = config.EffectiveQkvSubHeads;
        query = new QueryKeyValueProjection("query", d, h, config.DK, config.JQ, s, config.QkvBias);
        key = new QueryKeyValueProjection("key", d, h, config.DK, config.JK, s, config.QkvBias);
        value_ = new QueryKeyValueProjection("value_", d, h, config.DV, config.JV, s, config.QkvBias);
        mhnorm = new MultiHeadRmsNorm("mhnorm", h, config.DV * config.JO, config.NormEps);
        outprojection = nn.Linear(h * config.JO * config.DV, d, hasBias: false);
        if (config.AdditionalPassthrough)
            passthrough = new Passthrough("passthrough", d, config.PassthroughScaleInit);
        ResetOwnParameters();
        RegisterComponents();
    }

    /// <summary>The (validated) configuration.</summary>
    public Plstm1DLayerConfig Config { get; }

    /// <summary>Re-initialises every parameter as the reference (see the sub-layers; out-projection SmallInit).</summary>
    public void ResetParameters()
    {
        conv?.ResetParameters();
        source.ResetParameters();
        transition.ResetParameters();
        mark.ResetParameters();
        direct.ResetParameters();
        query.ResetParameters();
        key.ResetParameters();
        value_.ResetParameters();
        mhnorm.ResetParameters();
        passthrough?.ResetParameters();
        ResetOwnParameters();
    }

    private void ResetOwnParameters()
    {
        using var noGrad = no_grad();
        // SmallInit with fan = in_features = H·JO·DV, as the reference config asks (its reset_parameters applies it;
        // a freshly constructed torch layer that is never reset keeps PyTorch's default Linear init instead).
        nn.init.normal_(outprojection.weight!, 0.0, SmallInit.Std(outprojection.weight!.shape[1]));
    }

    /// <summary>Runs the layer on <c>[B, T, D]</c> from a zero state and returns <c>[B, T, D]</c>.</summary>
    /// <exception cref="ArgumentException">x is not a floating-point <c>[B, T, D]</c> tensor with B, T ≥ 1.</exception>
    public override Tensor forward(Tensor x)
    {
        var y = Forward(x, null, out var finalState);
        finalState.Dispose();
        return y;
    }

    /// <summary>
    /// Runs the layer on <c>[B, T, D]</c> from <paramref name="initialState"/> and also returns the state after the last
    /// position, so that a long sequence can be processed in segments.
    /// </summary>
    /// <param name="x">Input <c>[B, T, D]</c>.</param>
    /// <param name="initialState">The pLSTM state entering position 0, <c>[B·H, DK, DV, JT]</c> (heads folded into the
    /// batch, index b·H + h, the reference's layout) or <c>[B, H, DK, DV, JT]</c>; null = zeros. Cast to x's dtype;
    /// must be on x's device. Gradients flow into it.</param>
    /// <param name="finalState">The state after position T−1, in the layout of <paramref name="initialState"/>
    /// (<c>[B·H, DK, DV, JT]</c> when none was given).</param>
    /// <returns>The output <c>[B, T, D]</c>.</returns>
    /// <remarks>Only the pLSTM state is carried: the causal convolution of a segment sees zeros before its first
    /// position (as the reference), so with the convolution on, running segments one after another differs from one
    /// run over the whole sequence in the first K−1 positions of each later segment. The overload with a convolution
    /// history carries that too.</remarks>
    /// <exception cref="ArgumentException">x or <paramref name="initialState"/> has the wrong shape, dtype kind or
    /// device (the parameter name and the expected shape are in the message).</exception>
    public Tensor Forward(Tensor x, Tensor? initialState, out Tensor finalState)
    {
        var y = Run(x, initialState, null, stepwise: false, out finalState, out var history);
        history?.Dispose();
        return y;
    }

    /// <summary>
    /// Runs the layer on <c>[B, T, D]</c> continuing from a complete streaming state: the pLSTM state AND the causal
    /// convolution's input history (its last K − 1 inputs). Running segments one after another with this overload,
    /// passing each call's final state and history to the next, equals one run over the whole sequence.
    /// </summary>
    /// <param name="x">Input <c>[B, T, D]</c>.</param>
    /// <param name="initialState">As in <see cref="Forward(Tensor, Tensor?, out Tensor)"/>; null = zeros.</param>
    /// <param name="convolutionHistory">The K − 1 layer inputs before position 0, <c>[B, K−1, D]</c> (oldest first);
    /// null = zeros (a fresh sequence). Ignored (may be null) when the layer has no convolution.</param>
    /// <param name="finalState">The state after position T−1 (layout as the initial state's).</param>
    /// <param name="finalConvolutionHistory">The last K − 1 inputs <c>[B, K−1, D]</c> of the whole sequence so far, or
    /// null when the layer has no convolution.</param>
    /// <returns>The output <c>[B, T, D]</c>.</returns>
    /// <exception cref="ArgumentException">A tensor has the wrong shape, dtype kind or device.</exception>
    public Tensor Forward(Tensor x, Tensor? initialState, Tensor? convolutionHistory, out Tensor finalState,
        out Tensor? finalConvolutionHistory)
    {
        return Run(x, initialState, convolutionHistory, stepwise: false, out finalState, out finalConvolutionHistory);
    }

    /// <summary>
    /// One position of the recurrence in O(1): <c>C_t = T_t C_{t−1} + S_t k_t v_tᵀ</c>,
    /// <c>y_t = scale·(q_t M_t C_{t−1} + q_t D_t k_t v_t)</c> (<see cref="Plstm1DNaive"/> with L = 1), with the
    /// convolution reading <paramref name="convolutionHistory"/>. Equals position t of
    /// <see cref="Forward(Tensor, Tensor?, Tensor?, out Tensor, out Tensor?)"/> over the whole sequence.
    /// </summary>
    /// <param name="x">The input at this position, <c>[B, D]</c>.</param>
    /// <param name="state">The pLSTM state after the previous position, <c>[B·H, DK, DV, JT]</c> or
    /// <c>[B, H, DK, DV, JT]</c>; null = zeros (first position).</param>
    /// <param name="convolutionHistory">The previous K − 1 inputs <c>[B, K−1, D]</c>; null = zeros.</param>
    /// <param name="newState">The state after this position (layout as <paramref name="state"/>'s).</param>
    /// <param name="newConvolutionHistory">The updated history, or null without convolution.</param>
    /// <returns>The output at this position, <c>[B, D]</c>.</returns>
    /// <exception cref="ArgumentException">A tensor has the wrong shape, dtype kind or device.</exception>
    public Tensor Step(Tensor x, Tensor? state, Tensor? convolutionHistory, out Tensor newState,
        out Tensor? newConvolutionHistory)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 2 || x.shape[1] != Config.InputDim)
            throw new ArgumentException(
                $"{nameof(Plstm1DLayer)}.{nameof(Step)}: x must have shape [B, D={Config.InputDim}], got [{string.Join(", ", x.shape)}].", nameof(x));
        using var x3 = x.unsqueeze(1);                                                      // [B, 1, D]
        using var y = Run(x3, state, convolutionHistory, stepwise: true, out newState, out newConvolutionHistory);
        return y.squeeze(1);                                                                // [B, D]
    }

    /// <summary>Number of past inputs the convolution needs for streaming: K − 1, or 0 without convolution.</summary>
    public int ConvolutionHistoryLength => conv is null ? 0 : conv.HistoryLength;

    /// <summary>A zero pLSTM state <c>[B·H, DK, DV, JT]</c> (what a fresh sequence starts from).</summary>
    public Tensor ZeroState(long batch, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        zeros(new[] { batch * Config.NumHeads, Config.DK, Config.DV, Config.JT }, dtype: dtype, device: device);

    /// <summary>A zero convolution history <c>[B, K−1, D]</c>, or null without convolution.</summary>
    public Tensor? ZeroConvolutionHistory(long batch, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        conv is null ? null : zeros(new[] { batch, (long)conv.HistoryLength, Config.InputDim }, dtype: dtype, device: device);

    private Tensor Run(Tensor x, Tensor? initialState, Tensor? convolutionHistory, bool stepwise, out Tensor finalState,
        out Tensor? finalConvolutionHistory)
    {
        CheckInput(x);
        var cfg = Config;
        long B = x.shape[0], T = x.shape[1];
        int H = cfg.NumHeads, D = cfg.InputDim, DK = cfg.DK, DV = cfg.DV;
        bool stateIs5D = CheckState(initialState, x);
        using var scope = NewDisposeScope();

        Tensor? c = null, history = null;
        if (conv is not null)
            c = conv.Forward(x, convolutionHistory, out history);                            // [B, T, D]
        Tensor In(char part) => cfg.ReadsConvolution(part) ? c! : x;

        var s = source.forward(In('S'));                                                    // [B, T, H, JT, JK, JV]
        var t = transition.forward(In('T'));                                                // [B, T, H, JT, JT]
        var m = mark.forward(In('M'));                                                      // [B, T, H, JO, JQ, JT]
        var d = direct.forward(In('D'));                                                    // [B, T, H, JO, JQ, JK, JV]
        var q = query.forward(In('Q'));                                                     // [B, T, H, DK, JQ]
        var k = key.forward(In('K'));                                                       // [B, T, H, DK, JK]
        var v = value_.forward(In('V'));                                                    // [B, T, H, DV, JV]

        Tensor? c0 = initialState?.to_type(x.dtype).reshape(B * H, DK, DV, cfg.JT);          // [B·H, DK, DV, JT]
        var inputs = new Plstm1DInputs(
            HeadsToBatch(q), HeadsToBatch(k), HeadsToBatch(v),
            HeadsToBatch(s), HeadsToBatch(t), HeadsToBatch(m), HeadsToBatch(d), c0);
        double scale = 1.0 / Math.Sqrt(DK);
        var result = stepwise
            ? Plstm1DNaive.Forward(inputs, scale)                                           // the recurrence itself
            : Plstm1DChunked.Forward(inputs, cfg.Levels, scale);                            // Y [B·H, T, DV, JO]

        var perHead = result.Y.reshape(B, H, T, DV * cfg.JO).transpose(1, 2);              // [B, T, H, DV·JO]
        var normed = mhnorm.forward(perHead).reshape(B, T, D);                             // head-major channels
        var y = nn.functional.linear(normed, outprojection.weight!.to_type(x.dtype));       // [B, T, D]
        if (passthrough is not null)
            y = y + passthrough.forward(In('P'));

        var last = stateIs5D ? result.CLast.reshape(B, H, DK, DV, cfg.JT) : result.CLast;
        finalState = last.MoveToOuterDisposeScope();
        finalConvolutionHistory = history?.MoveToOuterDisposeScope();
        return y.MoveToOuterDisposeScope();
    }

    /// <summary><c>[B, T, H, …]</c> → <c>[B·H, T, …]</c> (batch-major, head-minor).</summary>
    private static Tensor HeadsToBatch(Tensor t)
    {
        var rest = t.shape[3..];
        return t.transpose(1, 2).reshape([t.shape[0] * t.shape[2], t.shape[1], .. rest]);
    }

    private void CheckInput(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int d = Config.InputDim;
        string expected = $"[B, T, D={d}]";
        string actual = "[" + string.Join(", ", x.shape) + "]";
        if (x.dim() != 3 || x.shape[2] != d)
            throw new ArgumentException($"{nameof(Plstm1DLayer)}: x must have shape {expected}, got {actual}.", nameof(x));
        if (x.shape[0] <= 0 || x.shape[1] <= 0)
            throw new ArgumentException($"{nameof(Plstm1DLayer)}: x must have shape {expected} with B, T ≥ 1, got {actual}.", nameof(x));
        if (!x.is_floating_point())
            throw new ArgumentException($"{nameof(Plstm1DLayer)}: x must be a floating-point tensor of shape {expected}, got {x.dtype}.", nameof(x));
    }

    /// <summary>Validates the initial state; true when it is given in the <c>[B, H, DK, DV, JT]</c> layout.</summary>
    private bool CheckState(Tensor? state, Tensor x)
    {
        if (state is null) return false;
        var cfg = Config;
        long b = x.shape[0];
        long[] flat = { b * cfg.NumHeads, cfg.DK, cfg.DV, cfg.JT };
        long[] split = { b, cfg.NumHeads, cfg.DK, cfg.DV, cfg.JT };
        bool isFlat = state.shape.SequenceEqual(flat), isSplit = state.shape.SequenceEqual(split);
        if (!isFlat && !isSplit)
            throw new ArgumentException(
                $"{nameof(Plstm1DLayer)}: initialState must have shape [B·H, DK, DV, JT] = [{string.Join(", ", flat)}] or " +
                $"[B, H, DK, DV, JT] = [{string.Join(", ", split)}], got [{string.Join(", ", state.shape)}].", "initialState");
        if (!state.is_floating_point())
            throw new ArgumentException($"{nameof(Plstm1DLayer)}: initialState must be floating-point, got {state.dtype}.", "initialState");
        if (state.device_type != x.device_type || state.device_index != x.device_index)
            throw new ArgumentException(
                $"{nameof(Plstm1DLayer)}: initialState must be on x's device {x.device}, got {state.device}.", "initialState");
        return isSplit;
    }
}
