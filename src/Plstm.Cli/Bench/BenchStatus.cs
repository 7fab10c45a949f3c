namespace Plstm.Cli.Bench;

/// <summary>Outcome of one benchmark row.</summary>
public enum BenchStatus
{
    /// <summary>Measured (possibly with fewer iterations than asked when the time limit hit; see <see cref="TimingStats.Truncated"/>).</summary>
    Ok,

    /// <summary>The device ran out of memory; the run continued with the next row.</summary>
    OutOfMemory,

    /// <summary>The operation does not run in this configuration (e.g. a dtype the kernel lacks); nothing is faked.</summary>
    Unsupported,

    /// <summary>The time limit passed before the row could run a timed iteration.</summary>
    Skipped,

    /// <summary>Any other failure; the command exits non-zero at the end.</summary>
    Error,
}
