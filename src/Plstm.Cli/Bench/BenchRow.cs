namespace Plstm.Cli.Bench;

/// <summary>One measured (or failed) configuration of a benchmark: one line of the table, one element of the JSON rows.</summary>
public sealed record BenchRow
{
    /// <summary>What ran: an operator form (<c>hierarchical</c>, <c>sdpa</c>, …) or a model preset.</summary>
    public required string Name { get; init; }

    /// <summary>Compute dtype (<c>float32</c>, <c>bfloat16</c>).</summary>
    public required string Dtype { get; init; }

    /// <summary>Token grid X×Y (operator grid, or the model's patch grid).</summary>
    public (int X, int Y)? Grid { get; init; }

    /// <summary>Batch size: B·H for the operator, images for a training step.</summary>
    public int? Batch { get; init; }

    /// <summary>Image side in pixels (training steps).</summary>
    public int? ImageSize { get; init; }

    /// <summary>Trainable parameter elements (training steps).</summary>
    public long? Parameters { get; init; }

    /// <summary>Outcome.</summary>
    public BenchStatus Status { get; init; } = BenchStatus.Ok;

    /// <summary>Why the row is not <see cref="BenchStatus.Ok"/> (the exception's first line), else null.</summary>
    public string? Message { get; init; }

    /// <summary>Iteration times, when at least one timed iteration ran.</summary>
    public TimingStats? Timing { get; init; }

    /// <summary>Median host times to issue the two timed phases of an iteration (<see cref="IHostTimedCase"/>; training
    /// steps: forward + loss, backward), when the case measures them.</summary>
    public (double First, double Second)? HostMilliseconds { get; init; }

    /// <summary>Images per second from the median step time (training steps).</summary>
    public double? ImagesPerSecond => Timing is { } t && Batch is int b && ImageSize is not null ? b / (t.Median / 1000.0) : null;

    /// <summary>Memory of the row (<see cref="MemoryMeter"/>), when measured.</summary>
    public MemoryReading? Memory { get; init; }

    /// <summary>Tokens per sample X·Y.</summary>
    public long? Tokens => Grid is { } g ? (long)g.X * g.Y : null;
}
