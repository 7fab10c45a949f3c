using Plstm.Data.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Models.Language;

/// <summary>Next-byte cross-entropy for training and evaluating a <see cref="ByteLanguageModel"/>.</summary>
public static class LanguageModelLoss
{
    /// <summary>
    /// Mean next-byte cross-entropy (nats per byte) of <paramref name="windows"/> <c>[B, T+1]</c> int64 (e.g. from
    /// <see cref="ByteCorpus.TrainingBatch"/>): inputs <c>windows[:, :T]</c>, targets <c>windows[:, 1:]</c>. The windows
    /// are moved to the model's device. Differentiable (a scalar to call <c>backward()</c> on).
    /// </summary>
    /// <exception cref="ArgumentException">windows not int64 <c>[B, T+1]</c> with T ≥ 1.</exception>
    public static Tensor Compute(ByteLanguageModel model, Tensor windows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(windows);
        if (windows.dim() != 2 || windows.shape[1] < 2 || windows.dtype != ScalarType.Int64)
            throw new ArgumentException(
                $"Expected int64 windows [B, T+1] with T ≥ 1, got {windows.dtype} [{string.Join(", ", windows.shape)}].",
                nameof(windows));
        using var scope = NewDisposeScope();
        var device = model.parameters().First().device;
        var w = Training.TrainingDevice.Upload(windows, device);
        long length = w.shape[1] - 1;
        var inputs = w.narrow(1, 0, length);                                             // [B, T]
        var targets = w.narrow(1, 1, length);                                            // [B, T]
        var logits = model.forward(inputs);                                              // [B, T, 256]
        var loss = nn.functional.cross_entropy(logits.reshape(-1, ByteLanguageModel.VocabSize), targets.reshape(-1));
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Mean next-byte cross-entropy (nats per byte) over <see cref="ByteCorpus.SequentialWindows"/> of
    /// <paramref name="split"/> (every window weighted by its T targets), in eval mode under <c>no_grad</c> (the model's
    /// mode is restored). Bits per byte = result / ln 2 (<see cref="BitsPerByte"/>).
    /// </summary>
    public static double Evaluate(ByteLanguageModel model, ByteCorpus corpus, CorpusSplit split, int batchSize,
        int sequenceLength, int? maxWindows = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(corpus);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            // Summed on the device (in float64, in the same order as on the host: the same result to the bit) and
            // read once: a read per batch would make the host wait for the device before issuing the next one.
            var device = model.parameters().First().device;
            using var total = tensor(0.0, ScalarType.Float64, device);
            long count = 0;
            foreach (var batch in corpus.SequentialWindows(split, batchSize, sequenceLength, maxWindows))
            {
                using var scope = NewDisposeScope();
                long targets = batch.shape[0] * sequenceLength;
                total.add_(Compute(model, batch).to_type(ScalarType.Float64).mul_((double)targets));
                count += targets;
                batch.Dispose();
            }
            return count == 0 ? double.NaN : total.item<double>() / count;
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <summary>Nats per byte → bits per byte.</summary>
    public static double BitsPerByte(double natsPerByte) => natsPerByte / Math.Log(2.0);
}
