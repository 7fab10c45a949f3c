namespace Plstm.Training;

/// <summary>
/// Averages of the training metrics since the last metrics line: the trainers add every step and flush one
/// <see cref="MetricRecord"/> per logging window.
/// </summary>
internal sealed class MetricsWindow
{
    private readonly string _throughputName;
    private double _loss, _accuracy, _gradNorm, _seconds;
    private long _items;
    private int _steps;
    private bool _hasAccuracy;

    /// <summary>Creates an empty window.</summary>
    /// <param name="throughputName">Metrics key of the throughput (<see cref="MetricRecord.ThroughputName"/>).</param>
    public MetricsWindow(string throughputName = MetricRecord.ImagesPerSecondName) => _throughputName = throughputName;

    /// <summary>Adds one step: its loss, accuracy (null when the task has none), gradient norm, the number of
    /// items (images, bytes) it processed and its duration.</summary>
    public void Add(double loss, double? accuracy, double gradNorm, long items, double seconds)
    {
        _loss += loss;
        if (accuracy is double a)
        {
            _accuracy += a;
            _hasAccuracy = true;
        }
        _gradNorm += gradNorm;
        _items += items;
        _seconds += seconds;
        _steps++;
    }

    /// <summary>Writes the averages as one train record (when any step was added) and empties the window.</summary>
    public void Flush(MetricsWriter? metrics, long step, int epoch, double learningRate)
    {
        if (_steps == 0) return;
        metrics?.Write(new MetricRecord(step, epoch, "train", _loss / _steps, _hasAccuracy ? _accuracy / _steps : null,
            learningRate, _gradNorm / _steps, _items / Math.Max(_seconds, 1e-9), UnixTime.Now())
        {
            ThroughputName = _throughputName,
        });
        _loss = _accuracy = _gradNorm = _seconds = 0;
        _items = 0;
        _steps = 0;
        _hasAccuracy = false;
    }
}
