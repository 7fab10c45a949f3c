using System.Buffers.Binary;

namespace Plstm.Tests.Cli;

/// <summary>Assertions shared by the CLI tests.</summary>
internal static class CliAssert
{
    /// <summary>Exit code 0, nothing on stderr.</summary>
    public static void Succeeded((int ExitCode, string Stdout, string Stderr) run, string what)
    {
        Assert.True(run.ExitCode == 0, $"{what}: exit code {run.ExitCode}; stderr: {run.Stderr}; stdout: {run.Stdout}");
        Assert.True(run.Stderr.Length == 0, $"{what}: unexpected stderr: {run.Stderr}");
    }

    /// <summary>A non-zero exit code and exactly one stderr line starting with <c>plstm: error: </c>.</summary>
    public static void FailedWithOneLine((int ExitCode, string Stdout, string Stderr) run, string what)
    {
        Assert.True(run.ExitCode != 0, $"{what}: succeeded; stdout: {run.Stdout}");
        Assert.True(run.Stderr.StartsWith("plstm: error: ", StringComparison.Ordinal), $"{what}: stderr was '{run.Stderr}'");
        string[] lines = run.Stderr.TrimEnd('\r', '\n').Split('\n');
        Assert.True(lines.Length == 1, $"{what}: {lines.Length} stderr lines: {run.Stderr}");
    }

    /// <summary>The file is a PNG with the given size (signature and IHDR checked), and returns its width and height.</summary>
    public static (int Width, int Height) IsPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 33, $"{path}: only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        int width = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
        int height = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        Assert.Equal("IEND"u8.ToArray(), bytes[^8..^4]);
        return (width, height);
    }

    /// <summary>A snapshot of a folder tree (relative path → length and last write time), empty when it is absent.</summary>
    public static IReadOnlyDictionary<string, (long, DateTime)> Snapshot(string folder) =>
        !Directory.Exists(folder)
            ? new Dictionary<string, (long, DateTime)>()
            : Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).ToDictionary(
                p => Path.GetRelativePath(folder, p),
                p => File.Exists(p) ? (new FileInfo(p).Length, File.GetLastWriteTimeUtc(p)) : (-1L, Directory.GetLastWriteTimeUtc(p)));
}
