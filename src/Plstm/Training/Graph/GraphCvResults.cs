using System.Text.Json.Serialization;

namespace Plstm.Training.Graph;

/// <summary>The outcome of one fold (written to <c>fold-{k}/result.json</c>).</summary>
public sealed record GraphFoldResult
{
    /// <summary>Fold number (0-based).</summary>
    [JsonPropertyName("fold")] public int Fold { get; init; }

    /// <summary>Training graphs.</summary>
    [JsonPropertyName("train_count")] public int TrainCount { get; init; }

    /// <summary>Validation graphs.</summary>
    [JsonPropertyName("validation_count")] public int ValidationCount { get; init; }

    /// <summary>Test graphs.</summary>
    [JsonPropertyName("test_count")] public int TestCount { get; init; }

    /// <summary>True when the split is stratified (false: the reference's KFold fallback).</summary>
    [JsonPropertyName("stratified")] public bool Stratified { get; init; }

    /// <summary>Epochs trained.</summary>
    [JsonPropertyName("epochs")] public int Epochs { get; init; }

    /// <summary>Epoch (0-based) of the kept checkpoint, chosen by <see cref="Selection"/>.</summary>
    [JsonPropertyName("best_epoch")] public int BestEpoch { get; init; }

    /// <summary>The kept checkpoint's validation accuracy (the best over the epochs).</summary>
    [JsonPropertyName("best_validation_accuracy")] public double BestValidationAccuracy { get; init; }

    /// <summary>The kept checkpoint's validation loss (absent from results written before it was recorded).</summary>
    [JsonPropertyName("best_validation_loss")] public double? BestValidationLoss { get; init; }

    /// <summary>The model-selection rule that chose the checkpoint (absent, i.e. the reference's, in older results).</summary>
    [JsonPropertyName("selection"), JsonConverter(typeof(JsonStringEnumConverter<GraphModelSelection>))]
    public GraphModelSelection Selection { get; init; }

    /// <summary>Test accuracy of the best-validation checkpoint.</summary>
    [JsonPropertyName("test_accuracy")] public double TestAccuracy { get; init; }

    /// <summary>Test cross-entropy of that checkpoint.</summary>
    [JsonPropertyName("test_loss")] public double TestLoss { get; init; }

    /// <summary>Macro one-vs-rest ROC-AUC on the test fold (null when a class is missing from it).</summary>
    [JsonPropertyName("test_roc_auc")] public double? TestRocAuc { get; init; }

    /// <summary>Accuracy of always predicting the training part's majority class on the test fold.</summary>
    [JsonPropertyName("majority_test_accuracy")] public double MajorityTestAccuracy { get; init; }

    /// <summary>Training accuracy (running, last epoch).</summary>
    [JsonPropertyName("final_train_accuracy")] public double FinalTrainAccuracy { get; init; }

    /// <summary>Wall-clock seconds of the fold.</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; init; }

    /// <summary>Path of the best-validation checkpoint.</summary>
    [JsonPropertyName("checkpoint")] public string Checkpoint { get; init; } = "";
}

/// <summary>The outcome of a cross-validation (written to <c>summary.json</c>).</summary>
public sealed record GraphCvResult
{
    /// <summary>Data set name.</summary>
    [JsonPropertyName("dataset")] public string Dataset { get; init; } = "";

    /// <summary>Number of graphs in the data set.</summary>
    [JsonPropertyName("graphs")] public int GraphCount { get; init; }

    /// <summary>Number of classes.</summary>
    [JsonPropertyName("classes")] public int ClassCount { get; init; }

    /// <summary>Node feature width F.</summary>
    [JsonPropertyName("node_features")] public int NodeFeatureCount { get; init; }

    /// <summary>Model parameters.</summary>
    [JsonPropertyName("parameters")] public long ParameterCount { get; init; }

    /// <summary>The folds run, in order.</summary>
    [JsonPropertyName("folds")] public IReadOnlyList<GraphFoldResult> Folds { get; init; } = [];

    /// <summary>Mean test accuracy over the folds run.</summary>
    [JsonPropertyName("mean_test_accuracy")] public double MeanTestAccuracy { get; init; }

    /// <summary>Standard deviation of the test accuracies (population, ddof 0, as numpy's <c>std</c>).</summary>
    [JsonPropertyName("std_test_accuracy")] public double StdTestAccuracy { get; init; }

    /// <summary>Sample standard deviation of the test accuracies (ddof 1; 0 for one fold).</summary>
    [JsonPropertyName("sample_std_test_accuracy")] public double SampleStdTestAccuracy { get; init; }

    /// <summary>Mean macro ROC-AUC over the folds where it is defined (null if none).</summary>
    [JsonPropertyName("mean_test_roc_auc")] public double? MeanTestRocAuc { get; init; }

    /// <summary>True when the run was cancelled: only the folds finished by then are summarised.</summary>
    [JsonPropertyName("interrupted")] public bool Interrupted { get; init; }

    /// <summary>Wall-clock seconds of the whole run (this call).</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; init; }

    /// <summary>The options of the run.</summary>
    [JsonPropertyName("options")] public GraphCvOptions? Options { get; init; }

    /// <summary>Finish time (UTC).</summary>
    [JsonPropertyName("finished_at")] public DateTimeOffset FinishedAt { get; init; }
}

/// <summary>What <c>GraphCrossValidation.Run</c> reports: one report per epoch, one per finished fold.</summary>
/// <param name="Fold">Fold number.</param>
/// <param name="Epoch">Epoch just finished (0-based; for a fold report the last epoch).</param>
/// <param name="Epochs">Epochs per fold.</param>
/// <param name="TrainLoss">Mean training loss of the epoch.</param>
/// <param name="TrainAccuracy">Training accuracy of the epoch (running, during training).</param>
/// <param name="ValidationAccuracy">Validation accuracy after the epoch.</param>
/// <param name="BestValidationAccuracy">Best validation accuracy so far.</param>
/// <param name="LearningRate">Learning rate of the epoch.</param>
/// <param name="Seconds">Seconds since the fold started.</param>
/// <param name="Completed">The fold's result, on the fold report; null on epoch reports.</param>
/// <param name="Dataset">Name of the fold's data set (several runs can share one worker pool).</param>
public sealed record GraphCvProgress(int Fold, int Epoch, int Epochs, double TrainLoss, double TrainAccuracy,
    double ValidationAccuracy, double BestValidationAccuracy, double LearningRate, double Seconds,
    GraphFoldResult? Completed = null, string Dataset = "");
