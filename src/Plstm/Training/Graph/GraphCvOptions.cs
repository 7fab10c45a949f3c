using System.Text.Json.Serialization;
using Plstm.Layers.Graph;

namespace Plstm.Training.Graph;

/// <summary>
/// Settings of <see cref="GraphCrossValidation"/>: the data set, the folds, the model and the training recipe of
/// models §7.5 (defaults = the reference's pLSTM TU recipe, with a batch of 64 graphs per optimiser step instead of
/// batch 1 with 64-fold gradient accumulation).
/// </summary>
public sealed record GraphCvOptions
{
    /// <summary>TU data set name (MUTAG, NCI1, PROTEINS, PTC_FM, …).</summary>
    public string Dataset { get; init; } = "MUTAG";

    /// <summary>Data folder (see <c>TuDataset.Locate</c>); null: <c>$PLSTM_DATA</c> / the shared data folder.</summary>
    public string? DataDir { get; init; }

    /// <summary>Output folder: <c>fold-{k}/</c> (metrics, best checkpoint, result) and <c>summary.json</c>.</summary>
    public string OutputFolder { get; init; } = Path.Combine("runs", "graph");

    /// <summary>Number of folds K (10).</summary>
    public int Folds { get; init; } = 10;

    /// <summary>Which folds to run (0-based); null: all K.</summary>
    public IReadOnlyList<int>? FoldIndices { get; init; }

    /// <summary>The split seed (scikit-learn <c>random_state</c>; 42).</summary>
    public uint SplitSeed { get; init; } = 42;

    /// <summary>Fraction of a fold's training part used for training; the rest is validation (reference 0.888889).</summary>
    public double TrainFraction { get; init; } = GraphSplits.ReferenceTrainFraction;

    /// <summary>Seed of torch's generator (model initialisation, the same for every fold, as in the reference) and of
    /// the per-epoch shuffle.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Training epochs (100).</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Warm-up epochs; null: <c>Epochs / 20</c> (integer division, as the reference).</summary>
    public int? WarmupEpochs { get; init; }

    /// <summary>Graphs per optimiser step (64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Graphs per evaluation batch.</summary>
    public int EvalBatchSize { get; init; } = 64;

    /// <summary>Peak learning rate (1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW weight decay (0.01, torch's default).</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>True (reference): decay every parameter (the reference hands <c>model.parameters()</c> to AdamW); false:
    /// only names ending in <c>weight</c> (<see cref="ParameterGroups.IsDecayed"/>).</summary>
    public bool DecayAllParameters { get; init; } = true;

    /// <summary>True (reference): a step's loss is the sum of its graphs' cross-entropies divided by
    /// <see cref="BatchSize"/>; false: their mean. The two differ only on the epoch's last, partial batch: the reference
    /// trains with batch 1 and 64-step gradient accumulation, and Lightning divides every micro-batch loss by 64, also
    /// in the last accumulation window of an epoch (MUTAG: 64 + 64 + 22 graphs, the last step at 22/64 of the
    /// gradient a mean would give).</summary>
    public bool AccumulationLossScale { get; init; } = true;

    /// <summary>Global gradient-norm clip (1.0; 0: off).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Decay of an exponential moving average of the weights (<see cref="ModelEma"/>, updated after every
    /// optimiser step), in [0, 1); 0 (default, the reference's recipe): off. When on, validation, model selection, the
    /// kept checkpoint and the test use the averaged weights.</summary>
    public double EmaDecay { get; init; }

    /// <summary>Hidden width (96).</summary>
    public int HiddenDim { get; init; } = 96;

    /// <summary>Heads per graph layer (4).</summary>
    public int NumHeads { get; init; } = 4;

    /// <summary>Graph blocks (2).</summary>
    public int NumBlocks { get; init; } = 2;

    /// <summary>Which epoch each fold keeps for its test evaluation (default: the reference's, <see
    /// cref="GraphModelSelection.Accuracy"/>).</summary>
    public GraphModelSelection Selection { get; init; } = GraphModelSelection.Accuracy;

    /// <summary>Transition node input (default: shared node).</summary>
    public GraphTransitionInput TransitionInput { get; init; } = GraphTransitionInput.SharedNode;

    /// <summary>P-mode normalisation (default: per incoming edge).</summary>
    public GraphPNormalization PNormalization { get; init; } = GraphPNormalization.PerIncomingEdge;

    /// <summary>Compute dtype of the graph layers (null, default: float32 like the rest of the model; bfloat16: the
    /// reference's autocast, <see cref="PlstmGraphEdgeLayerConfig.ComputeDtype"/>).</summary>
    public TorchSharp.torch.ScalarType? ComputeDtype { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>libtorch intra-op threads during the run (process-wide; the previous value is restored afterwards); null:
    /// leave as is. Default 1: a step
    /// is thousands of small operations, which gain little from intra-op threads, and on a machine whose cores are busy
    /// OpenMP's spin-waiting made 2 threads 100× slower than 1 (<c>docs/graphs.md</c>).</summary>
    public int? Threads { get; init; } = 1;

    /// <summary>Folds trained at the same time, each on its own thread with <see cref="Threads"/> libtorch threads (1:
    /// one after the other), or each by a <see cref="GraphFoldRunner"/> passed to <c>RunMany</c> (the CLI starts one
    /// process per fold). A fold's numbers do not depend on it: every fold seeds its own model and data order.</summary>
    /// <remarks>In-process parallel folds share one .NET garbage collector: with TorchSharp 0.107 a collection started
    /// by one fold's allocations can finalize a temporary <c>Scalar</c> that another fold's libtorch call is still
    /// reading (a rare native crash, "Expected false to be true"). Separate processes do not share it.</remarks>
    public int ParallelFolds { get; init; } = 1;

    /// <summary>Write <c>summary.json</c> / <c>summary.md</c> at the end (default). Off for a worker that trains one
    /// fold of a run whose summary another process writes.</summary>
    public bool WriteSummary { get; init; } = true;

    /// <summary>Skip folds whose <c>result.json</c> already exists (and read their result instead).</summary>
    public bool Resume { get; init; }

    /// <summary>The warm-up in effect.</summary>
    [JsonIgnore]
    public int EffectiveWarmupEpochs => WarmupEpochs ?? Epochs / 20;

    /// <summary>Checks every field; throws an <see cref="ArgumentException"/> whose <c>ParamName</c> is the option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Dataset)) throw new ArgumentException("Dataset is empty.", nameof(Dataset));
        if (string.IsNullOrWhiteSpace(OutputFolder)) throw new ArgumentException("OutputFolder is empty.", nameof(OutputFolder));
        if (Folds < 2) throw new ArgumentException($"Folds must be at least 2 (got {Folds}).", nameof(Folds));
        if (FoldIndices is { } folds)
        {
            if (folds.Count == 0) throw new ArgumentException("FoldIndices is empty.", nameof(FoldIndices));
            var bad = folds.FirstOrDefault(f => f < 0 || f >= Folds, -1);
            if (folds.Any(f => f < 0 || f >= Folds))
                throw new ArgumentException($"Fold {bad} is outside 0 … {Folds - 1}.", nameof(FoldIndices));
            if (folds.Distinct().Count() != folds.Count)
                throw new ArgumentException("FoldIndices repeats a fold.", nameof(FoldIndices));
        }
        if (!(TrainFraction > 0 && TrainFraction < 1))
            throw new ArgumentException($"TrainFraction must be in (0, 1) (got {TrainFraction}).", nameof(TrainFraction));
        if (Epochs < 1) throw new ArgumentException($"Epochs must be positive (got {Epochs}).", nameof(Epochs));
        if (WarmupEpochs is int w && (w < 0 || w > Epochs))
            throw new ArgumentException($"WarmupEpochs must be in [0, Epochs] (got {w}).", nameof(WarmupEpochs));
        if (BatchSize < 1) throw new ArgumentException($"BatchSize must be positive (got {BatchSize}).", nameof(BatchSize));
        if (EvalBatchSize < 1)
            throw new ArgumentException($"EvalBatchSize must be positive (got {EvalBatchSize}).", nameof(EvalBatchSize));
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentException($"LearningRate must be positive and finite (got {LearningRate}).", nameof(LearningRate));
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay))
            throw new ArgumentException($"WeightDecay must be ≥ 0 and finite (got {WeightDecay}).", nameof(WeightDecay));
        if (!(EmaDecay >= 0 && EmaDecay < 1))
            throw new ArgumentException($"EmaDecay must be in [0, 1) (got {EmaDecay}).", nameof(EmaDecay));
        if (!(GradientClip >= 0))
            throw new ArgumentException($"GradientClip must be ≥ 0 (got {GradientClip}).", nameof(GradientClip));
        if (HiddenDim < 2 || HiddenDim % 2 != 0)
            throw new ArgumentException($"HiddenDim must be positive and even (got {HiddenDim}).", nameof(HiddenDim));
        if (NumHeads < 1 || HiddenDim % NumHeads != 0)
            throw new ArgumentException($"NumHeads ({NumHeads}) must divide HiddenDim ({HiddenDim}).", nameof(NumHeads));
        if (NumBlocks < 0) throw new ArgumentException($"NumBlocks must be ≥ 0 (got {NumBlocks}).", nameof(NumBlocks));
        if (ComputeDtype is { } compute && compute is not (TorchSharp.torch.ScalarType.Float32 or TorchSharp.torch.ScalarType.BFloat16))
            throw new ArgumentException($"ComputeDtype must be float32 or bfloat16 (got {compute}).", nameof(ComputeDtype));
        if (!Enum.IsDefined(TransitionInput))
            throw new ArgumentException($"Unknown transition input {TransitionInput}.", nameof(TransitionInput));
        if (!Enum.IsDefined(PNormalization))
            throw new ArgumentException($"Unknown P-mode normalisation {PNormalization}.", nameof(PNormalization));
        if (ParallelFolds < 1)
            throw new ArgumentException($"ParallelFolds must be positive (got {ParallelFolds}).", nameof(ParallelFolds));
        if (Threads is int t && t < 1) throw new ArgumentException($"Threads must be positive (got {t}).", nameof(Threads));
        var device = (Device ?? "").Trim().ToLowerInvariant();
        if (device != "cpu" && device != "cuda" && !device.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"Device '{Device}' is not cpu, cuda or cuda:N.", nameof(Device));
    }
}
