using System.Diagnostics;
using Plstm.Data.Text;
using Plstm.Models.Language;
using Xunit.Abstractions;

namespace Plstm.Tests.Language;

/// <summary>A short plain AdamW loop makes the next-byte loss of <c>lm_tiny</c> fall.</summary>
public sealed class LanguageModelTrainingTests(ITestOutputHelper output)
{
    private const string Fallback =
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n" +
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n\n";

    /// <summary>The first 40 kB of tiny Shakespeare, or a repeated excerpt when the file is not available.</summary>
    private static ByteCorpus SmallCorpus()
    {
        try
        {
            var full = ByteCorpus.LoadTinyShakespeare(verifyChecksum: false);
            return ByteCorpus.FromBytes(full.Bytes[..40_000].ToArray(), full.Source + "[..40000]");
        }
        catch (FileNotFoundException)
        {
            var text = string.Concat(Enumerable.Repeat(Fallback, 250));
            return ByteCorpus.FromBytes(System.Text.Encoding.UTF8.GetBytes(text), "fallback excerpt");
        }
    }

    [Fact]
    public void A_few_AdamW_steps_on_lm_tiny_make_the_loss_fall()
    {
        var corpus = SmallCorpus();
        torch.manual_seed(1);                            // the real init (shared global generator: not exactly reproducible)
        using var model = LanguageModelRegistry.Create("lm_tiny");
        using var optimizer = optim.AdamW(model.parameters(), lr: 3e-3, weight_decay: 0.01);
        double Validation() => LanguageModelLoss.Evaluate(model, corpus, CorpusSplit.Validation, 8, 64, maxWindows: 16);

        double before = Validation();
        var watch = Stopwatch.StartNew();
        var losses = new List<double>();
        model.train();
        for (int step = 0; step < 25; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = LanguageModelLoss.Compute(model, corpus.TrainingBatch(8, 64, seed: 2, step));
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        double after = Validation();
        output.WriteLine($"{corpus.Source}: val {before:F3} → {after:F3} nats/byte ({LanguageModelLoss.BitsPerByte(after):F3} bits); " +
            $"train {losses[0]:F3} → {losses[^1]:F3}; 25 steps in {watch.Elapsed.TotalSeconds:F1} s");
        Assert.InRange(before, Math.Log(256) - 0.5, Math.Log(256) + 0.5);                // ≈ uniform at init
        Assert.True(after < before - 1.0, $"validation loss {before:F3} → {after:F3} did not fall by 1 nat");
        Assert.True(losses.TakeLast(5).Average() < losses.Take(5).Average() - 1.0, "training loss did not fall");
    }
}
