using System.CommandLine;
using System.Text;
using Plstm.Models.Language;
using Plstm.Training;
using Plstm.Training.Language;
using TorchSharp;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm generate --checkpoint FILE [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K] [--seed S]</c>:
/// loads a checkpoint of <c>plstm train lm</c>, feeds the prompt's UTF-8 bytes, then samples N bytes and prints them
/// as they come (incremental UTF-8 decoding: multi-byte characters print whole, invalid sequences as U+FFFD), followed
/// by a newline. Only the continuation is printed, not the prompt.
/// </summary>
/// <remarks>
/// pLSTM models consume the prompt with the parallel form and then decode in O(1) per byte with the streaming step
/// (no context limit). Transformers condition on a sliding window of the last <c>context</c> bytes (the training
/// context stored in the checkpoint): a longer prompt is cut to its last <c>context</c> bytes, and generation slides the
/// window on. An empty prompt starts from a newline byte (<see cref="Sampling.EmptyPromptByte"/>). The same checkpoint,
/// prompt, settings and seed print the same text on every run.
/// </remarks>
public sealed class GenerateCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "Checkpoint written by 'plstm train lm' (OUT/last.ckpt or best.ckpt).",
            Required = true,
        };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue (default empty: start from a newline).", DefaultValueFactory = _ => "" };
        var tokens = new Option<int>("--tokens") { Description = "Bytes to generate (default 200).", DefaultValueFactory = _ => 200 };
        OptionChecks.Add(tokens, v => v >= 1, "--tokens must be ≥ 1.");
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature (default 0.8; 0 = always the most likely byte).", DefaultValueFactory = _ => 0.8 };
        OptionChecks.Add(temperature, v => v >= 0 && double.IsFinite(v), "--temperature must be a finite number ≥ 0.");
        var topK = new Option<int>("--top-k") { Description = "Sample among the K most likely bytes (default 0 = all 256).", DefaultValueFactory = _ => 0 };
        OptionChecks.Add(topK, v => v >= 0, "--top-k must be ≥ 0 (0 = all bytes).");
        var seed = new Option<long>("--seed") { Description = "Seed of the sampling generator (default 0).", DefaultValueFactory = _ => 0 };
        OptionChecks.Add(seed, v => v >= 0, "--seed must be ≥ 0.");
        var device = new Option<string>("--device") { Description = "cpu (default), cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var threads = OptionChecks.ThreadsOption();

        var generate = new Command("generate",
            "Generate text with a language-model checkpoint of 'plstm train lm', printed as it is sampled.")
        {
            checkpoint, prompt, tokens, temperature, topK, seed, device, threads,
        };
        generate.SetAction(parseResult =>
        {
            string deviceName = parseResult.GetValue(device)!;
            OptionChecks.Device(deviceName);
            OptionChecks.ApplyThreads(parseResult.GetValue(threads));
            byte[] promptBytes = PromptBytes(parseResult.GetValue(prompt)!);
            using var trained = OptionChecks.Usage(() => TrainedLanguageModel.Load(parseResult.GetValue(checkpoint)!));
            trained.Model.to(TrainingDevice.Resolve(deviceName));

            var writer = parseResult.InvocationConfiguration.Output;
            var text = new IncrementalUtf8Writer(writer);
            Sampling.Generate(trained.Model, promptBytes, parseResult.GetValue(tokens), parseResult.GetValue(temperature),
                parseResult.GetValue(topK), parseResult.GetValue(seed), text.Write);
            text.Finish();
            writer.WriteLine();
            writer.Flush();
            return PlstmApp.Success;
        });
        return generate;
    }

    /// <summary>The prompt's UTF-8 bytes.</summary>
    /// <exception cref="CliUsageException">The prompt holds a lone surrogate (not Unicode text, so it has no UTF-8
    /// form).</exception>
    public static byte[] PromptBytes(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetBytes(prompt);
        }
        catch (EncoderFallbackException ex)
        {
            throw new CliUsageException(
                $"--prompt is not valid Unicode text: a lone surrogate at character {ex.Index}; it has no UTF-8 bytes to feed the model.", ex);
        }
    }
}
