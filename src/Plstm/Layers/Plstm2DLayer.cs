using Plstm.Ops.TwoD;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static Plstm.Layers.Dtypes;

namespace Plstm.Layers;

/// <summary>
/// The fused 2D pLSTM layer used by every vision model (reference <c>pLSTM2DLayerFused</c>, models §2; wiring and
/// parameter layout as in the golden README section <c>plstm2d_layer</c>). Input and output <c>[B, X, Y, D]</c>
/// (x = patch rows, y = patch columns), any grid size.
/// </summary>
/// <remarks>
/// <para>Per cell: q, k, v per head (<see cref="QueryKeyValueProjection"/>); 4H raw S/T/M gates whose index n = 4h + o
/// is read by the operator as (head h, orientation o); in P-mode an orientation gate o_n; the direct gate d_h.
/// All heads and orientations then run in ONE call of <see cref="Plstm2DFused.Forward"/> (heads folded into the batch),
/// with scale DK^−½: the sum over the 4 flipped scans plus the direct term once. Each head is RMS-normalised over its
/// DV channels, heads are concatenated head-major and projected D → D without bias.</para>
/// <para>Implementation: the sub-layers own the parameters, but the layer does not call their forwards. All q/k/v,
/// orientation and S/T/M pre-activations come from ONE matmul over a weight concatenated from those parameters at every
/// call (the S/T/M rows block-diagonal), and the gates are activated and moved to the operator's layout stacked; the
/// RMS norm's scale is folded into the out-projection weight. Same function as the per-sub-layer composition up to
/// rounding, with far fewer small operations and autograd nodes (about 5 ms less per layer and CPU training step at
/// B 64, 8×8, D 64).</para>
/// <para>Padding: the layer never pads x. The operator pads the already gated q/k/v/S/T/M/d internally (padded cells
/// have zero k and v and cannot feed real cells) and crops back (clarification 4); padding x itself would let the
/// q/k/v biases of padded cells leak into real cells through the flipped orientations.</para>
/// <para>Parameters (reference state_dict names): P-mode <c>orientation_bias [4,H]</c>, <c>orientation_weight
/// [4,H,D]</c>, <c>source.*</c>, <c>transition.*</c>, <c>mark.*</c>; D-mode <c>source_r/_d.*</c>,
/// <c>transition_r/_d/_rd.*</c>, <c>mark_l/_u.*</c>; both <c>direct.bias</c>, <c>query.*</c>, <c>key.*</c>,
/// <c>value_.*</c>, <c>mhnorm.scale</c>, <c>outprojection.weight [D, H·DV]</c>. Parameters are cast to the input's dtype
/// in the forward pass (the reference's compute dtype), so float32 parameters can run a bfloat16 input.</para>
/// </remarks>
public sealed class Plstm2DLayer : nn.Module<Tensor, Tensor>
{
    // Field names are the reference state_dict names (TorchSharp registers fields under their names), declared in the
    // reference's registration order. Not readonly: Module.to(dtype/device) replaces parameters through the fields.

    // P-mode only.
    private Parameter? orientation_bias;          // [4, H]
    private Parameter? orientation_weight;        // [4, H, D]
    private SigmoidGate? source;
    private TransitionGate? transition;
    private SigmoidGate? mark;

    // D-mode only.
    private SigmoidGate? source_r;
    private SigmoidGate? source_d;
    private TransitionGate? transition_r;
    private TransitionGate? transition_d;
    private TransitionGate? transition_rd;
    private SigmoidGate? mark_l;
    private SigmoidGate? mark_u;

    // Both modes.
    private DirectGate direct;
    private QueryKeyValueProjection query;
    private QueryKeyValueProjection key;
    private QueryKeyValueProjection value_;
    private MultiHeadRmsNorm mhnorm;
    private Linear outprojection;

    /// <summary>Creates the layer with reference-initialised parameters (float32, CPU; use <c>.to(…)</c> to move).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="config">Layer configuration; validated here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentException">An invalid config field (<see cref="ArgumentException.ParamName"/> names it).</exception>
    public Plstm2DLayer(string name, Plstm2DLayerConfig config) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Form = config.Form;
        RecomputeInBackward = config.RecomputeChunkGates;
        int d = config.InputDim, h = config.NumHeads, n = config.GateHeads;
        bool dep = config.InputDependentGates;

        // The S/T/M sub-layers have 4H gates and 4H sub-heads (models §2.2: gate n reads input group n).
        if (config.Mode == Plstm2DMode.P)
        {
            orientation_bias = new Parameter(empty(4, h));
            orientation_weight = new Parameter(empty(4, h, d));
            source = SigmoidGate.Source("source", n, d, n, config.SourceBiasInit, dep);
            transition = new TransitionGate("transition", n, d, n, config.TransitionBiasInit, config.TransitionFactor, dep);
            mark = SigmoidGate.Mark("mark", n, d, n, config.MarkBiasInit, dep);
        }
        else
        {
            source_r = SigmoidGate.Source("source_r", n, d, n, config.SourceBiasInit, dep);
            source_d = SigmoidGate.Source("source_d", n, d, n, config.SourceBiasInit, dep);
            transition_r = new TransitionGate("transition_r", n, d, n, config.TransitionBiasInit, config.TransitionFactor, dep);
            transition_d = new TransitionGate("transition_d", n, d, n, config.TransitionBiasInit, config.TransitionFactor, dep);
            transition_rd = new TransitionGate("transition_rd", n, d, n, config.TransitionBiasInit, config.TransitionFactor, dep);
            mark_l = SigmoidGate.Mark("mark_l", n, d, n, config.MarkBiasInit, dep);
            mark_u = SigmoidGate.Mark("mark_u", n, d, n, config.MarkBiasInit, dep);
        }
        direct = new DirectGate("direct", h, config.DirectBiasInit);
        query = new QueryKeyValueProjection("query", d, h, config.DK, 1, config.QkvSubHeads, config.QkvBias);
        key = new QueryKeyValueProjection("key", d, h, config.DK, 1, config.QkvSubHeads, config.QkvBias);
        value_ = new QueryKeyValueProjection("value_", d, h, config.DV, 1, config.QkvSubHeads, config.QkvBias);
        mhnorm = new MultiHeadRmsNorm("mhnorm", h, config.DV, config.NormEps);
        outprojection = nn.Linear(h * config.DV, d, hasBias: false);
        ResetOwnParameters();
        RegisterComponents();
    }

    /// <summary>The (validated) configuration.</summary>
    public Plstm2DLayerConfig Config { get; }

    /// <summary>Which exact form of the operator runs the scans; starts as <see cref="Plstm2DLayerConfig.Form"/>
    /// (<see cref="Plstm2DForm.Auto"/> unless configured). <see cref="Plstm2DForm.Naive"/> is the cell-by-cell oracle, for
    /// tests. Every form gives the same result up to rounding.</summary>
    public Plstm2DForm Form { get; set; }

    /// <summary>Whether the chunkwise, row-scan and kernel forms recompute their path sums in backward instead of keeping them
    /// (less memory, same result); starts as <see cref="Plstm2DLayerConfig.RecomputeChunkGates"/>.</summary>
    public bool RecomputeInBackward { get; set; }

    /// <summary>Re-initialises every parameter as the vision configs do (see the sub-layers; orientation bias
    /// linspace over heads, orientation weight 0, out-projection SmallInit).</summary>
    public void ResetParameters()
    {
        foreach (var gate in new[] { source, source_r, source_d }) gate?.ResetParameters();
        foreach (var gate in new[] { transition, transition_r, transition_d, transition_rd }) gate?.ResetParameters();
        foreach (var gate in new[] { mark, mark_l, mark_u }) gate?.ResetParameters();
        direct.ResetParameters();
        query.ResetParameters();
        key.ResetParameters();
        value_.ResetParameters();
        mhnorm.ResetParameters();
        ResetOwnParameters();
    }

    private void ResetOwnParameters()
    {
        using var noGrad = no_grad();
        if (orientation_bias is not null && orientation_weight is not null)
        {
            // linspace over the head axis, the same for all 4 rows (H = 1 gives [low], as torch.linspace).
            var heads = linspace(Config.OrientationBiasLow, Config.OrientationBiasHigh, Config.NumHeads, dtype: orientation_bias.dtype);
            orientation_bias.copy_(heads.unsqueeze(0).expand(4, Config.NumHeads));
            nn.init.zeros_(orientation_weight);
        }
        // The torch reference leaves PyTorch's default Linear init (uniform ±1/√D) here although its config asks for
        // SmallInit; the JAX reference (used for the paper's runs) applies SmallInit. We follow the config and JAX
        // (models §6.6 recommendation): normal with std √(2/(5·fan_in)), fan_in = H·DV = D.
        nn.init.normal_(outprojection.weight!, 0.0, SmallInit.Std(outprojection.weight!.shape[1]));
    }

    /// <summary>Runs the layer on <c>[B, X, Y, D]</c> and returns <c>[B, X, Y, D]</c>.</summary>
    /// <exception cref="ArgumentException">x is not a floating-point <c>[B, X, Y, D]</c> tensor with positive sizes.</exception>
    public override Tensor forward(Tensor x)
    {
        var shape = CheckInput(x);
        using var scope = NewDisposeScope();
        var (dtype, deviceType) = (x.dtype, x.device_type);                                // each read is a native call
        var cfg = Config;
        long B = shape[0], X = shape[1], Y = shape[2];
        int H = cfg.NumHeads, G = cfg.GateHeads;
        bool pMode = cfg.Mode == Plstm2DMode.P;
        var sigmoidGates = pMode ? new[] { source!, mark! } : new[] { source_r!, source_d!, mark_l!, mark_u! };
        var transitions = pMode ? new[] { transition! } : new[] { transition_r!, transition_d!, transition_rd! };

        // Every projection of x in ONE matmul (the per-sub-layer einsums, bias adds, activations and permutes cost more
        // than the arithmetic at these sizes): columns [q | k | v | gate pre-activations], see StackedProjection.
        var activation = pMode ? GateActivationMode.P
            : cfg.DModeChirality == "L" ? GateActivationMode.DLeft : GateActivationMode.DRight;
        var (weight, bias) = StackedProjection(sigmoidGates, transitions, dtype);
        // projected = x Wᵀ + b, [B, X, Y, 3·H·DK + K·4H]: made here, or inside the kernel form's function (below).

        // The gate pre-activations (kinds k, gate axis n = 4h + orientation, which the walk reads) become the walk's
        // stacked gates [B·H, 4, 8, X, Y] in one differentiable step (on CUDA one kernel each way): as separate tensor
        // operations they and their autograd nodes were about fifteen host calls per layer each way, and the 224-px
        // training step was bound by the host. P-mode: sigmoid kinds o, S, M, then T = tanh(f·z); the orientation gate
        // o is orientation-major (n = row·H + head) and used as is on the 4H gate axis, which the walk reads head-major:
        // a pure relabelling, kept for parameter parity with the reference (models §2.4). As implemented in all
        // reference frameworks, the d-side gets 1 − o·S and 1 − o·T (not (1 − o)·S). D-mode: only one turn exists, so
        // exactly one path joins two cells: chirality L lets state turn up → right, R left → down.
        // Every transition gate of the layer has the configured factor, so the first one's serves all.
        double factor = transitions[0].Factor;
        double scale = 1.0 / Math.Sqrt(cfg.DK);
        long cells = X * Y;

        Tensor normed;                                                                       // [B, X, Y, H, DV], normalised
        // The walks take float32 and float64. Half precision (bfloat16, float16) mixes in float32 there — the projection's
        // output cast up, the normalised heads cast back, the projections on either side in the input's dtype — as
        // autocast keeps attention-like reductions in float32: the walk sums over hundreds of paths and the attention's
        // rows over hundreds of cells, where half precision loses most, and the float32 kernels are the fast ones (the
        // half-precision row scan below runs batched products and a per-cell gate in the inputs' dtype).
        bool half = dtype is ScalarType.BFloat16 or ScalarType.Float16;
        var mixDtype = half ? ScalarType.Float32 : dtype;
        if (Plstm2DAutoForm.Resolve(Form, scalarGates: true, X, Y, deviceType) == Plstm2DForm.Kernel
            && WalkedGateAttention.CanWalk(deviceType, mixDtype, X, Y))
        {
            // The kernel form: activation, walk, masked attention and the per-head norm (without its scale) as one
            // function reading the projection output (on CUDA float32 in place: no copies of q, k, v or of their
            // gradients, the norm one kernel each way). mhnorm's eps is the config's. The direct gate is bias-only
            // here (DirectGate without weight): σ(bias_h), the same at every cell.
            // D0 goes in per head: the function spreads it over the cells and sums its gradient back (the cells' sum,
            // then the batch's as a matrix–vector product) instead of autograd's reduction of a broadcast copy.
            var dHead = sigmoid(Cast(direct.Bias, mixDtype)).reshape(H);                    // [H]
            // q, k and v from half precision are exact in TF32 (8 or 11 significant bits): the masked attention kernel
            // takes one TF32 product per operand pair instead of the float32 split. In the compute dtype the projection
            // goes into the function too, whose backward makes its gradients (the bias's as a matrix–vector product).
            normed = half
                ? Cast(ProjectedGateAttention.Attend(Cast(Dtypes.Linear(x, weight, bias), mixDtype), H, cfg.DK, activation,
                    factor, dHead, scale, RecomputeInBackward, cfg.NormEps, MaskedAttentionPrecision.Tf32), dtype)
                : ProjectedGateAttention.AttendProjected(x, weight, bias, H, cfg.DK, activation, factor, dHead, scale,
                    RecomputeInBackward, cfg.NormEps);
        }
        else
        {
            var projected = Dtypes.Linear(x, weight, bias);                                  // [B, X, Y, 3·H·DK + K·4H]
            var parts = projected.split(new[] { 3L * H * cfg.DK, (long)GateActivation.Kinds(activation) * G }, -1);
            // q, k, v with the heads folded into the batch (batch-major, head-minor): one copy for the three.
            var qkvCells = parts[0].reshape(B, X, Y, 3, H, cfg.DK).permute(3, 0, 4, 1, 2, 5)
                .reshape(3, B * H, cells, cfg.DK);                                           // [3, B·H, cells, DK]
            // Every other form (and half precision) takes the gates one by one: views of the stacked planes, the turn
            // a D-mode layer lacks absent.
            var stacked = GateActivation.Apply(parts[1], H, activation, factor);           // [B·H, 4, 8, X, Y]
            var qkv = qkvCells.view(3, B * H, X, Y, cfg.DK, 1).unbind(0);                   // 3 × [B·H, X, Y, DK, 1]
            var planes = stacked.unbind(2);                                                  // 8 × [B·H, 4, X, Y]
            Tensor Gate(int p) => planes[p].view(B * H, 4, X, Y, 1, 1, 1);                   // [B·H, 4, X, Y, J, J, J]
            Tensor Transition(int p) => planes[p].view(B * H, 4, X, Y, 1, 1);                // [B·H, 4, X, Y, JT, JT]
            var dHead = sigmoid(Cast(direct.Bias, dtype));                                   // [H]: σ(bias_h), as above
            var d = dHead.reshape(1, H, 1, 1, 1, 1, 1, 1).expand(B, H, X, Y, 1, 1, 1, 1)
                .reshape(B * H, X, Y, 1, 1, 1, 1);                                           // [B·H, X, Y, 1, 1, 1, 1]
            var inputs = new Plstm2DFusedInputs(qkv[0], qkv[1], qkv[2], Gate(0), Gate(1), Transition(2), Transition(3),
                activation == GateActivationMode.DLeft ? null : Transition(4),
                activation == GateActivationMode.DRight ? null : Transition(5), Gate(6), Gate(7), d);
            var perHead = Plstm2DFused.Forward(inputs, cfg.Levels, scale, Form, cfg.ChunkSide, RecomputeInBackward)
                .reshape(B, H, X, Y, cfg.DV).permute(0, 2, 3, 1, 4);                         // from [B·H, X, Y, DV, 1]
            normed = mhnorm.Normalize(perHead, withScale: false);
        }

        // The norm's per-channel scale folded into the out-projection's input columns: z·diag(γ)·Wᵀ = z·(W·diag(γ))ᵀ,
        // one [D, H·DV] product instead of a full-size one and its backward.
        var heads = normed.reshape(B, X, Y, H * cfg.DV);                                     // [B, X, Y, H·DV], head-major
        var outWeight = outprojection.weight! * mhnorm.Scale.reshape(H * cfg.DV);            // [D, H·DV]
        var y = nn.functional.linear(heads, Cast(outWeight, dtype));                        // [B, X, Y, D]
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The weight <c>[C, D]</c> and bias <c>[C]</c> of every projection of x, cast to <paramref name="dtype"/>, rows
    /// <c>[q (H·DK) | k | v | P: orientation (4H) | sigmoid gates (4H each) | transitions (4H each)]</c>. Built from the
    /// sub-layers' own parameters at every call, so autograd routes the gradients back to them. The S/T/M gates read
    /// D/(4H) channels each: their block-diagonal rows are mostly zero, which costs fewer operations on the CPU than
    /// a separate grouped product. Without input-dependent gates those rows are zero (bias only; the transitions'
    /// weights stay unused, as in the reference). The P-mode orientation scale/D is folded into its rows.
    /// </summary>
    private (Tensor Weight, Tensor Bias) StackedProjection(SigmoidGate[] sigmoidGates, TransitionGate[] transitions,
        ScalarType dtype)
    {
        var cfg = Config;
        int G = cfg.GateHeads, D = cfg.InputDim;
        var weights = new List<Tensor> { query.DenseWeight(), key.DenseWeight(), value_.DenseWeight() };
        var biases = new List<Tensor> { query.DenseBias(), key.DenseBias(), value_.DenseBias() };
        if (orientation_weight is not null && orientation_bias is not null)
        {
            weights.Add(orientation_weight.reshape(G, D) * (cfg.OrientationScale / D));       // [4H, D], row r·H + h
            biases.Add(orientation_bias.reshape(G));
        }
        int kinds = sigmoidGates.Length + transitions.Length;
        if (cfg.InputDependentGates)
        {
            var grouped = sigmoidGates.Select(g => g.Weight!).Concat(transitions.Select(t => t.EigenvaluesWeight))
                .Select(w => w.reshape(G, D / G)).ToArray();                                 // [4H, D/(4H)] each
            weights.Add(SubHeadAffine.Dense(stack(grouped).unsqueeze(2), sigmoidGates[0].Weight!)); // [K·4H, D]
        }
        else
            weights.Add(zeros(kinds * G, D, dtype: query.Weight.dtype, device: query.Weight.device));
        biases.AddRange(sigmoidGates.Select(g => g.Bias.reshape(G)));
        biases.AddRange(transitions.Select(t => t.EigenvaluesBias.reshape(G)));
        var (weight, bias) = (cat(weights, 0), cat(biases, 0));
        return weight.dtype == dtype ? (weight, bias) : (weight.to_type(dtype), bias.to_type(dtype)); // one dtype read
    }

    /// <summary>Checks x and returns its shape (read once: each read is a native call that allocates).</summary>
    private long[] CheckInput(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int d = Config.InputDim;
        var shape = x.shape;
        string Expected() => $"[B, X, Y, D={d}]";
        string Actual() => "[" + string.Join(", ", shape) + "]";
        if (shape.Length != 4 || shape[3] != d)
            throw new ArgumentException($"{nameof(Plstm2DLayer)}: x must have shape {Expected()}, got {Actual()}.", nameof(x));
        if (shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0)
            throw new ArgumentException($"{nameof(Plstm2DLayer)}: x must have shape {Expected()} with B, X, Y ≥ 1, got {Actual()}.", nameof(x));
        if (!x.is_floating_point())
            throw new ArgumentException($"{nameof(Plstm2DLayer)}: x must be a floating-point tensor of shape {Expected()}, got {x.dtype}.", nameof(x));
        return shape;
    }
}
