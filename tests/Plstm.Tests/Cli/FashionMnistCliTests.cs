using Plstm.Tests.Support;
using System.Text.Json;
using Plstm.Data.Images;
using Plstm.Tests.Training;
using Plstm.Training;

namespace Plstm.Tests.Cli;

/// <summary>
/// <c>plstm train fashion-mnist</c> with the tiny pLSTM-ViT (4×4 patches on 28×28 gray images) for a few steps: the
/// training loss must fall. Needs the Debian package <c>dataset-fashion-mnist</c> (CI installs it); skipped otherwise.
/// </summary>
[Collection(TrainingSerialCollection.Name)]
public sealed class FashionMnistCliTests
{
    [SkippableFact]
    public void A_few_steps_lower_the_loss()
    {
        try
        {
            FashionMnist.Locate();
        }
        catch (IOException ex)
        {
            Skip.If(true, $"Fashion-MNIST is not installed here (apt-get install {FashionMnist.DebianPackage}): {ex.GetType().Name}");
        }

        using var temp = new TempFolder();
        string run = temp.File("fmnist");
        var train = CliRunner.Run("train", "fashion-mnist", "--steps", "16", "--batch-size", "32", "--train-count", "1024",
            "--eval-count", "64", "--warmup", "2", "--lr", "2e-3", "--log-every", "1", "--no-plot", "--out", run);
        CliAssert.Succeeded(train, "train fashion-mnist");
        Assert.Contains("test @28: loss ", train.Stdout);
        Assert.False(File.Exists(Path.Combine(run, "curves.png")));

        var losses = File.ReadLines(Path.Combine(run, "plstm", MetricsWriter.JsonLinesFileName))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(r => r.GetProperty("split").GetString() == "train")
            .Select(r => r.GetProperty("loss").GetDouble())
            .ToArray();
        Assert.Equal(16, losses.Length);
        double start = losses.Take(3).Average(), end = losses.TakeLast(4).Average();
        Assert.True(start > 2.0, $"initial loss {start:0.000} (ln 10 = 2.303 expected at init)");
        Assert.True(end < start - 0.25, $"loss did not fall: first steps {start:0.000}, last steps {end:0.000}");
    }
}
