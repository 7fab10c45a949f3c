namespace Plstm.Training;

/// <summary>
/// One metrics line: what <see cref="MetricsWriter"/> writes as a JSON object
/// (<c>step, epoch, split, loss, acc, lr, grad_norm, images_per_s, time</c>, then any <see cref="Extra"/> values) and
/// as TensorBoard scalars (<c>{split}/loss</c>, <c>{split}/acc</c>, …). Absent values are written as JSON
/// <c>null</c> and skipped in TensorBoard.
/// </summary>
/// <param name="Step">Optimiser steps completed.</param>
/// <param name="Epoch">The epoch (0-based) of the last batch.</param>
/// <param name="Split"><c>train</c>, <c>val</c>, or another dataset name.</param>
/// <param name="Loss">Mean loss (train: soft-target loss over the logging window; val: cross-entropy; language models:
/// nats per byte).</param>
/// <param name="Accuracy">Top-1 accuracy in [0, 1] (train: against the unmixed labels), or null for tasks without one.</param>
/// <param name="LearningRate">Learning rate of the last step.</param>
/// <param name="GradNorm">Mean pre-clipping global gradient norm over the window.</param>
/// <param name="ImagesPerSecond">Throughput over the window, in the unit that <see cref="ThroughputName"/> names
/// (images for the vision trainer, bytes for language models).</param>
/// <param name="Time">Wall-clock time, seconds since the Unix epoch.</param>
public sealed record MetricRecord(long Step, int Epoch, string Split, double? Loss, double? Accuracy,
    double? LearningRate, double? GradNorm, double? ImagesPerSecond, double Time)
{
    /// <summary>The throughput key of image trainers.</summary>
    public const string ImagesPerSecondName = "images_per_s";

    /// <summary>The throughput key of language-model trainers.</summary>
    public const string BytesPerSecondName = "bytes_per_s";

    /// <summary>JSON key and TensorBoard tag suffix of the throughput (<see cref="ImagesPerSecondName"/> unless set).</summary>
    public string ThroughputName { get; init; } = ImagesPerSecondName;

    /// <summary>Further named values written after the standard ones (e.g. <c>bits_per_byte</c>), in order; null for
    /// none.</summary>
    public IReadOnlyList<KeyValuePair<string, double?>>? Extra { get; init; }
}
