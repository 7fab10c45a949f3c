using System.Diagnostics;
using Plstm.Data;
using Plstm.Data.ArrowPointing;
using Plstm.Training;
using TorchSharp;

namespace Plstm.Bench;

/// <summary>
/// <c>--data-loader [--runs R] [--batches N] [--size S] [--batch B]</c>: how fast the data loader builds arrow-pointing
/// batches (S px, B images; defaults 192 and 128, the <c>ape</c> experiment's) through the dataset's batch fill
/// (<see cref="IBatchImageDataset"/>: samples rendered in parallel straight into the batch) against one
/// <see cref="IImageDataset.Get"/> per sample (the path every dataset without a batch fill takes). One path after the
/// other, each after a warm-up run; prints median / min milliseconds per batch and images per second, with the machine's core count.
/// </summary>
internal static class DataLoaderBench
{
    public static int Run(string[] args)
    {
        int runs = Program.ReadInt(args, "--runs", 5);
        int batches = Program.ReadInt(args, "--batches", 4);
        int size = Program.ReadInt(args, "--size", 192);
        int batch = Program.ReadInt(args, "--batch", 128);
        // As the plstm command does at start-up.
        HostAllocator.TuneForTraining();
        var arrows = new ArrowPointingDataset(ArrowPointingSettings.Paper(size, 43), batch * batches);
        var loaders = new (string Name, DataLoader Loader)[]
        {
            ("batch fill (parallel render)", new DataLoader(arrows, batch, shuffle: true, seed: 1, prefetch: false)),
            ("one Get per sample", new DataLoader(new SampleOnly(arrows), batch, shuffle: true, seed: 1, prefetch: false)),
        };
        var times = loaders.Select(_ => new List<double>()).ToArray();
        // One path after the other (each after a warm-up run): alternating them, each path's allocations evict the
        // other's reused memory.
        for (int l = 0; l < loaders.Length; l++)
            for (int run = -1; run < runs; run++)                // run -1: warm-up
            {
                var clock = Stopwatch.StartNew();
                foreach (var b in loaders[l].Loader.ReadEpoch()) b.Dispose();
                if (run >= 0) times[l].Add(clock.Elapsed.TotalMilliseconds / batches);
            }
        Console.WriteLine($"data loader, arrow pointing {size} px, batches of {batch}, {batches} batches per run, {runs} runs, "
            + $"{Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}");
        Console.WriteLine("| path | median ms / batch | min ms / batch | images/s (median) |");
        Console.WriteLine("|---|---:|---:|---:|");
        for (int l = 0; l < loaders.Length; l++)
        {
            var sorted = times[l].Order().ToArray();
            double median = sorted[sorted.Length / 2];
            Console.WriteLine($"| {loaders[l].Name} | {median:F1} | {sorted[0]:F1} | {batch / median * 1000:F0} |");
        }
        return 0;
    }

    // Hides the dataset's batch fill.
    private sealed class SampleOnly(IImageDataset source) : IImageDataset
    {
        public int Count => source.Count;
        public int NumClasses => source.NumClasses;
        public int Channels => source.Channels;
        public int Height => source.Height;
        public int Width => source.Width;
        public (TorchSharp.torch.Tensor Image, long Label) Get(int index) => source.Get(index);
    }
}
