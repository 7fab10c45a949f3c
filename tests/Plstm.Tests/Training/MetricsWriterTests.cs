using Plstm.Tests.Support;
using System.Text;
using System.Text.Json;
using Plstm.Training;

namespace Plstm.Tests.Training;

public class MetricsWriterTests
{
    [Fact]
    public void Crc32c_matches_the_standard_check_value()
    {
        byte[] check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xE3069283u, Crc32C.Compute(check));
        Assert.Equal(0xE3069283u, TensorBoardReader.Crc32C(check));
        var random = new Random(1);
        var data = new byte[1000];
        random.NextBytes(data);
        Assert.Equal(TensorBoardReader.Masked(data), Crc32C.Masked(data));
    }

    [Fact]
    public void Jsonl_lines_parse_and_tensorboard_file_decodes_with_valid_crcs()
    {
        using var folder = new TempFolder();
        string? eventsPath;
        using (var writer = new MetricsWriter(folder.Path))
        {
            writer.Write(new MetricRecord(10, 0, "train", 1.25, 0.5, 1e-3, 2.5, 1000, 1700000000.5));
            writer.Write(new MetricRecord(20, 1, "train", 0.75, 0.75, 5e-4, double.NaN, 900, 1700000001));
            writer.Write(new MetricRecord(20, 1, "val", 0.5, 0.875, null, null, 5000, 1700000002));
            eventsPath = writer.TensorBoardPath;
        }

        var lines = File.ReadAllLines(Path.Combine(folder.Path, MetricsWriter.JsonLinesFileName));
        Assert.Equal(3, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            var r = first.RootElement;
            Assert.Equal(10, r.GetProperty("step").GetInt64());
            Assert.Equal(0, r.GetProperty("epoch").GetInt32());
            Assert.Equal("train", r.GetProperty("split").GetString());
            Assert.Equal(1.25, r.GetProperty("loss").GetDouble());
            Assert.Equal(0.5, r.GetProperty("acc").GetDouble());
            Assert.Equal(1e-3, r.GetProperty("lr").GetDouble());
            Assert.Equal(2.5, r.GetProperty("grad_norm").GetDouble());
            Assert.Equal(1000, r.GetProperty("images_per_s").GetDouble());
            Assert.Equal(1700000000.5, r.GetProperty("time").GetDouble());
        }
        using (var second = JsonDocument.Parse(lines[1]))
            Assert.Equal(JsonValueKind.Null, second.RootElement.GetProperty("grad_norm").ValueKind);
        using (var third = JsonDocument.Parse(lines[2]))
        {
            Assert.Equal("val", third.RootElement.GetProperty("split").GetString());
            Assert.Equal(JsonValueKind.Null, third.RootElement.GetProperty("lr").ValueKind);
        }

        Assert.NotNull(eventsPath);
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(eventsPath));
        Assert.Equal(Path.Combine(folder.Path, MetricsWriter.TensorBoardFolderName), Path.GetDirectoryName(eventsPath));
        var events = TensorBoardReader.Read(eventsPath!);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Empty(events[0].Values);
        var scalars = events.Skip(1).Select(e => (e.Step, e.Values.Single().Tag, e.Values.Single().Value)).ToList();
        Assert.Contains((10L, "train/loss", 1.25f), scalars);
        Assert.Contains((10L, "train/lr", 1e-3f), scalars);
        Assert.Contains((20L, "val/acc", 0.875f), scalars);
        Assert.DoesNotContain(scalars, s => s.Step == 20 && s.Tag == "train/grad_norm"); // NaN is skipped
        Assert.Equal(5 + 4 + 3, scalars.Count);
        Assert.All(events.Skip(1), e => Assert.True(e.WallTime >= 1700000000));
    }

    [Fact]
    public void Reopening_drops_lines_after_the_resume_step()
    {
        using var folder = new TempFolder();
        using (var writer = new MetricsWriter(folder.Path, tensorBoard: false))
            for (int step = 1; step <= 5; step++)
                writer.Write(new MetricRecord(step, 0, "train", step, null, null, null, null, 0));
        File.AppendAllText(Path.Combine(folder.Path, MetricsWriter.JsonLinesFileName), "{\"step\": 6, \"tor"); // torn line
        using (var writer = new MetricsWriter(folder.Path, keepUpToStep: 3, tensorBoard: false))
            writer.Write(new MetricRecord(4, 0, "train", 40, null, null, null, null, 0));
        var steps = File.ReadAllLines(Path.Combine(folder.Path, MetricsWriter.JsonLinesFileName))
            .Select(l => { using var d = JsonDocument.Parse(l); return d.RootElement.GetProperty("step").GetInt64(); });
        Assert.Equal(new long[] { 1, 2, 3, 4 }, steps);
    }
}
