namespace Plstm.Data;

/// <summary>
/// Writes files so that readers only ever see the old content or the complete new content: the data goes to a
/// temporary file in the same folder (same file system, so the rename is atomic) and is renamed over the target at
/// the end. A crash or an exception leaves at most a stray <c>*.tmp</c> file, never a truncated target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes the file at <paramref name="path"/> with the content produced by <paramref name="write"/>.</summary>
    /// <param name="path">The target file; its folder must exist. An existing file is replaced.</param>
    /// <param name="write">Writes the whole content to the stream it is given (it must not close it).</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        string temp = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                // Flush to disk before the rename, so that the rename never publishes data still in the cache.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original exception matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
