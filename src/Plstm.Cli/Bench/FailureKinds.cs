namespace Plstm.Cli.Bench;

/// <summary>Classifies the exceptions a benchmark row can end with.</summary>
public static class FailureKinds
{
    /// <summary>
    /// True when <paramref name="ex"/> reports exhausted memory: libtorch's "CUDA out of memory" and
    /// "DefaultCPUAllocator: can't allocate memory"/"not enough memory" (TorchSharp rethrows them with the C++
    /// message), cuBLAS/cuDNN allocation failures, or a .NET <see cref="OutOfMemoryException"/>.
    /// </summary>
    public static bool IsOutOfMemory(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is OutOfMemoryException) return true;
            string message = e.Message;
            if (message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
                || message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)
                || message.Contains("not enough memory", StringComparison.OrdinalIgnoreCase)
                || message.Contains("ALLOC_FAILED", StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    /// <summary>The first line of the innermost message, at most 200 characters (for the table and JSON).</summary>
    public static string Summary(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var root = ex.GetBaseException();
        string message = string.IsNullOrWhiteSpace(root.Message) ? root.GetType().Name : root.Message;
        string first = message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault() ?? root.GetType().Name;
        return first.Length <= 200 ? first : first[..197] + "...";
    }
}
