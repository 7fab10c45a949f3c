using System.Diagnostics;
using Plstm.Models;
using Plstm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// One full training step of a vision model as the <see cref="Trainer"/> takes it, on random images and labels:
/// forward, cross-entropy, gradients set to none, backward, AdamW step (<see cref="AdamWOptimizer"/> over
/// <see cref="ParameterGroups"/>, weight decay 0.05). Not included, to keep the step to the operations being compared:
/// gradient clipping, label smoothing, Mixup/CutMix and reading the loss back (each a device sync in the trainer).
/// </summary>
/// <remarks>bfloat16 is pure bfloat16: parameters, activations, gradients and AdamW moments in bfloat16 (TorchSharp has
/// no autocast); the loss is taken in float32 from the bfloat16 logits.</remarks>
public sealed class TrainingStepCase : IHostTimedCase
{
    private const double LearningRate = 1e-3;
    private const double WeightDecay = 0.05;
    private readonly VisionModel _model;
    private readonly AdamWOptimizer _optimizer;
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly List<(double, double)> _hostMilliseconds = [];
    private readonly Stopwatch _hostClock = new();

    /// <summary>Moves <paramref name="model"/> (which this case then owns) to the device and dtype and creates the
    /// optimiser and a batch of N(0, 1) images with uniform random labels.</summary>
    public TrainingStepCase(VisionModel model, int batch, int imageSize, ScalarType dtype, Device device, long seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        try
        {
            _model.to(device);
            if (dtype != ScalarType.Float32) _model.to(dtype);
            _model.train();
            // After the move: AdamW creates its moment tensors next to the parameters.
            _optimizer = new AdamWOptimizer(ParameterGroups.Split(_model), WeightDecay);
            _optimizer.SetLearningRate(LearningRate);
            var layout = model.Layout;
            long[] shape = layout.ChannelsFirst
                ? [batch, layout.NumChannels, imageSize, imageSize]
                : [batch, imageSize, imageSize, layout.NumChannels];
            manual_seed(seed);
            _images = randn(shape, dtype: dtype, device: device);
            _labels = randint(0, layout.NumClasses, [batch], dtype: ScalarType.Int64, device: device);
        }
        catch
        {
            // Partly built (e.g. out of memory while moving): free what exists; the fields may still be null here.
            (_optimizer as IDisposable)?.Dispose();
            (_images as IDisposable)?.Dispose();
            _model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void RunOnce()
    {
        using var scope = NewDisposeScope();
        _hostClock.Restart();
        var logits = _model.forward(_images);
        var loss = nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), _labels);
        double forward = _hostClock.Elapsed.TotalMilliseconds;
        _model.zero_grad(true);
        loss.backward();
        // Nothing above waits for the device (backward returns once its kernels are queued), so these are the host's
        // issue times. The unclipped AdamW step below does not wait for the device either (it reads no norm back).
        _hostMilliseconds.Add((forward, _hostClock.Elapsed.TotalMilliseconds - forward));
        _optimizer.Step();
    }

    /// <inheritdoc />
    public IReadOnlyList<(double First, double Second)> HostMilliseconds => _hostMilliseconds;

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
        _images.Dispose();
        _labels.Dispose();
        _model.Dispose();
    }
}
