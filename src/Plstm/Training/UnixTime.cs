namespace Plstm.Training;

/// <summary>The wall-clock time stamp of metrics records.</summary>
internal static class UnixTime
{
    /// <summary>Seconds since the Unix epoch (millisecond resolution).</summary>
    public static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
