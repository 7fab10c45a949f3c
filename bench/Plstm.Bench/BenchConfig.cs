using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Plstm.Bench;

/// <summary>
/// A short job: one warm-up and five measured iterations, each of as many invocations as fill BenchmarkDotNet's
/// default 500 ms iteration time (one for the slow naive cases, whose single operation takes 0.3–2 s). It runs in
/// process: no generated project is built (shorter runs), and the native libtorch files and the patched TorchSharp
/// glue are exactly those of this project's build output.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public BenchConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(1)
            .WithIterationCount(5)
            .WithUnrollFactor(1)
            .WithId("short"));
        WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Value));
        AddColumn(StatisticColumn.Median);
        WithOptions(ConfigOptions.JoinSummary);
    }
}
