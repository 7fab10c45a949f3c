using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Cli.Bench;

/// <summary>
/// The machine a benchmark ran on, written at the top of every report: numbers without it cannot be compared.
/// </summary>
/// <param name="Host">Host name.</param>
/// <param name="Cpu">CPU model (Linux <c>/proc/cpuinfo</c>), or "unknown".</param>
/// <param name="LogicalCores">Logical cores visible to the process.</param>
/// <param name="TorchThreads">libtorch intra-op threads.</param>
/// <param name="MemoryGiB">Physical memory (Linux <c>/proc/meminfo</c>), or null.</param>
/// <param name="Device">Device the benchmark ran on (<c>cpu</c>, <c>cuda:0</c>).</param>
/// <param name="Gpu">GPU name (cudaGetDeviceProperties, else nvidia-smi), or null on the CPU.</param>
/// <param name="GpuMemoryGiB">GPU memory (cudaMemGetInfo total), or null.</param>
/// <param name="Torch">TorchSharp and libtorch versions.</param>
/// <param name="Runtime">.NET runtime and operating system.</param>
public sealed record MachineInfo(
    string Host, string Cpu, int LogicalCores, int TorchThreads, double? MemoryGiB, string Device, string? Gpu,
    double? GpuMemoryGiB, string Torch, string Runtime)
{
    /// <summary>Collects the description for a run on <paramref name="device"/>.</summary>
    public static MachineInfo Collect(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        bool isCuda = device.type == DeviceType.CUDA;
        int index = Math.Max(0, (int)device.index);
        string? gpu = isCuda ? CudaNative.DeviceName(index) ?? NvidiaSmiName(index) : null;
        double? gpuMemory = isCuda && CudaNative.MemoryInfo() is { } info ? info.Total / (double)(1L << 30) : null;
        string torchVersion = $"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {LibtorchVersion()}";
        return new MachineInfo(Environment.MachineName, CpuModel(), Environment.ProcessorCount, get_num_threads(),
            ReadMemoryGiB(), isCuda ? $"cuda:{index}" : "cpu", gpu, gpuMemory, torchVersion,
            $"{RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}");
    }

    /// <summary>One markdown-friendly line per fact.</summary>
    public IEnumerable<string> Lines()
    {
        var inv = CultureInfo.InvariantCulture;
        yield return string.Create(inv,
            $"CPU: {Cpu}, {LogicalCores} logical cores, libtorch threads {TorchThreads}{(MemoryGiB is double m ? $", {m:F0} GiB RAM" : "")}");
        if (Device != "cpu")
            yield return string.Create(inv,
                $"GPU: {Gpu ?? "unknown"}{(GpuMemoryGiB is double g ? $", {g:F1} GiB" : "")} ({Device})");
        yield return $"software: {Torch}; {Runtime}";
        yield return $"host: {Host}";
    }

    private static string LibtorchVersion()
    {
        try
        {
            return torch.__version__;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException or InvalidOperationException)
        {
            return "unknown";
        }
    }

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? line = File.ReadLines("/proc/cpuinfo")
                    .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null && line.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0)
                    return line[(colon + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static double? ReadMemoryGiB()
    {
        try
        {
            if (!File.Exists("/proc/meminfo")) return null;
            string? line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            string[]? parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts is { Length: >= 2 } && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb)
                ? kb / (double)(1 << 20)
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The GPU name from <c>nvidia-smi</c>, if it is installed (a fallback when libcudart is not found).</summary>
    private static string? NvidiaSmiName(int index)
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", $"--query-gpu=name --format=csv,noheader --id={index}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start);
            if (process is null) return null;
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(10_000)) return null;
            string name = output.Trim();
            return process.ExitCode == 0 && name.Length > 0 ? name : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
