using BenchmarkDotNet.Attributes;

namespace Plstm.Bench;

/// <summary>
/// BenchmarkDotNet comparison of the 2D operator forms, forward + backward. The hierarchical form is the baseline, so
/// the Ratio column of the naive rows reads "naive / parallel".
/// </summary>
[Config(typeof(BenchConfig))]
public class Plstm2DBenchmarks
{
    private Workload? _workload;

    /// <summary>Grid side: the grid is Grid×Grid cells.</summary>
    [Params(16, 32)]
    public int Grid { get; set; }

    /// <summary>Builds the inputs (outside the measurements).</summary>
    [GlobalSetup]
    public void Setup()
    {
        Program.ConfigureTorch();
        _workload = new Workload(Grid);
    }

    /// <summary>Releases the inputs.</summary>
    [GlobalCleanup]
    public void Cleanup() => _workload?.Dispose();

    /// <summary><c>Plstm2DHierarchical.Output(inputs, levels)</c> (levels per grid, see <see cref="Workload.Levels"/>), then <c>Y.sum().backward()</c>.</summary>
    [Benchmark(Baseline = true, Description = "parallel (hierarchical)")]
    public double Hierarchical() => Current.ForwardBackward(Form.Hierarchical);

    /// <summary><c>Plstm2DChunkwise.Output(inputs, chunkSide)</c> (default chunk side), then <c>Y.sum().backward()</c>.</summary>
    [Benchmark(Description = "parallel (chunkwise)")]
    public double Chunkwise() => Current.ForwardBackward(Form.Chunkwise);

    /// <summary><c>Plstm2DNaive.Forward(inputs)</c>, then <c>Y.sum().backward()</c>.</summary>
    [Benchmark(Description = "naive")]
    public double Naive() => Current.ForwardBackward(Form.Naive);

    private Workload Current => _workload ?? throw new InvalidOperationException("GlobalSetup has not run");
}
