using System.Text.Json;
using Plstm.Data;
using Plstm.Data.StateTracking;
using Plstm.Models.StateTracking;

namespace Plstm.Training.StateTracking;

/// <summary>
/// The outcome of one state-tracking run: the settings, the model size, timing, when the target accuracy was first
/// reached, and the accuracy at every test length. Written as <c>results.json</c> (<see cref="WriteJson"/>).
/// </summary>
/// <param name="Options">The run's settings.</param>
/// <param name="Parameters">Number of model parameters.</param>
/// <param name="StepsRun">Optimiser steps actually taken (fewer than the settings' when stopped at the target).</param>
/// <param name="TrainSeconds">Wall time of the training loop, periodic evaluations included.</param>
/// <param name="FinalTrainLoss">Mean training loss over the last logging window.</param>
/// <param name="TargetStep">First step at which the periodic evaluation at the first test length reached the target
/// accuracy; null if never.</param>
/// <param name="TargetSeconds">Training wall time at <paramref name="TargetStep"/>; null if never.</param>
/// <param name="Lengths">The final accuracy at every test length, in the order of the settings.</param>
public sealed record StateTrackingResult(StateTrackingOptions Options, long Parameters, long StepsRun, double TrainSeconds,
    double FinalTrainLoss, long? TargetStep, double? TargetSeconds, IReadOnlyList<LengthAccuracy> Lengths)
{
    /// <summary>The file name of the result.</summary>
    public const string JsonFileName = "results.json";

    /// <summary>With the adaptive curriculum: the training length at the end; otherwise null.</summary>
    public int? FinalTrainLength { get; init; }

    /// <summary>With the adaptive curriculum: the step at which it reached the full training length; null if it did not
    /// (or without it).</summary>
    public long? FullLengthStep { get; init; }

    /// <summary>A short model label: <c>plstm-jt4</c> or <c>transformer</c>.</summary>
    public string ModelLabel => Label(Options.Model);

    /// <summary>The label of a model configuration: <c>plstm-jt{JT}</c> or <c>transformer</c>.</summary>
    public static string Label(StateTrackingModelConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Kind == SequenceModelKind.Plstm
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"plstm-jt{model.JT}")
            : "transformer";
    }

    /// <summary>The results table (Markdown): one row per test length.</summary>
    public string ToMarkdown()
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            string.Create(inv, $"{Options.Task.Name()} · {ModelLabel} · {Parameters:N0} parameters · {StepsRun} steps · {TrainSeconds:F0} s"),
            "",
            "| length | per-position acc | last-position acc |",
            "| ---: | ---: | ---: |",
        };
        foreach (var l in Lengths)
            lines.Add(string.Create(inv, $"| {l.Length} | {l.Accuracy:P1} | {l.LastAccuracy:P1} |"));
        lines.Add("");
        if (Options.CurriculumThreshold > 0)
            lines.Add(FullLengthStep is long full
                ? string.Create(inv, $"adaptive curriculum reached the training length {Options.TrainLength} at step {full}")
                : string.Create(inv, $"adaptive curriculum stopped at length {FinalTrainLength} of {Options.TrainLength}"));
        lines.Add(TargetStep is long step
            ? string.Create(inv, $"reached {Options.TargetAccuracy:P0} per-position accuracy at length {Options.TestLengths[0]} after {step} steps ({TargetSeconds:F0} s)")
            : string.Create(inv, $"never reached {Options.TargetAccuracy:P0} per-position accuracy at length {Options.TestLengths[0]} in a periodic evaluation"));
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Writes the result to <paramref name="path"/> atomically (readers see the old file or the whole new one).</summary>
    public void WriteJson(string path) => AtomicFile.Write(path, stream =>
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        Write(json);
    });

    /// <summary>Writes the result as one JSON object.</summary>
    public void Write(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var o = Options;
        var m = o.ModelConfig();
        json.WriteStartObject();
        json.WriteString("task", o.Task.Name());
        json.WriteString("model", ModelLabel);
        json.WriteStartObject("config");
        json.WriteString("kind", m.Kind == SequenceModelKind.Plstm ? "plstm" : "transformer");
        json.WriteNumber("dim", m.Dim);
        json.WriteNumber("heads", m.NumHeads);
        json.WriteNumber("layers", m.NumBlocks);
        json.WriteNumber("readout_delay", m.ReadoutDelay);
        json.WriteBoolean("start_token", m.StartToken);
        if (m.Kind == SequenceModelKind.Plstm)
        {
            json.WriteNumber("jt", m.JT);
            json.WriteNumber("jv", m.JV);
            json.WriteNumber("jo", m.JO);
            json.WriteNumber("conv_kernel", m.ConvolutionKernelSize);
            json.WriteBoolean("transition_from_conv", m.TransitionFromConvolution);
            json.WriteBoolean("random_gate_init", m.RandomGateInit);
            json.WriteNumber("transition_init_std", m.TransitionInitStd);
        }
        else
        {
            json.WriteString("positions", "sinusoidal");
        }
        json.WriteNumber("vocab", m.VocabSize);
        json.WriteNumber("classes", m.NumClasses);
        json.WriteEndObject();
        json.WriteNumber("parameters", Parameters);
        json.WriteNumber("steps", o.Steps);
        json.WriteNumber("steps_run", StepsRun);
        json.WriteNumber("batch_size", o.BatchSize);
        json.WriteNumber("lr", o.LearningRate);
        json.WriteNumber("warmup", o.Schedule().WarmupSteps);
        json.WriteNumber("weight_decay", o.WeightDecay);
        json.WriteNumber("clip", o.GradientClip);
        json.WriteNumber("train_length", o.TrainLength);
        json.WriteNumber("curriculum_steps", o.CurriculumSteps);
        json.WriteNumber("min_train_length", o.MinTrainLength);
        json.WriteNumber("curriculum_threshold", o.CurriculumThreshold);
        if (o.CurriculumThreshold > 0)
        {
            json.WriteNumber("curriculum_window", o.CurriculumWindow);
            if (FinalTrainLength is int final) json.WriteNumber("final_train_length", final);
            if (FullLengthStep is long full) json.WriteNumber("full_length_step", full);
            else json.WriteNull("full_length_step");
        }
        json.WriteNumber("test_count", o.TestCount);
        json.WriteNumber("time_limit_seconds", o.TimeLimitSeconds);
        json.WriteNumber("seed", o.Seed);
        json.WriteString("device", o.Device);
        json.WriteNumber("train_seconds", TrainSeconds);
        Number(json, "final_train_loss", FinalTrainLoss);
        json.WriteNumber("target_accuracy", o.TargetAccuracy);
        if (TargetStep is long step) json.WriteNumber("target_step", step);
        else json.WriteNull("target_step");
        if (TargetSeconds is double seconds) json.WriteNumber("target_seconds", seconds);
        else json.WriteNull("target_seconds");
        json.WriteStartArray("lengths");
        foreach (var l in Lengths)
        {
            json.WriteStartObject();
            json.WriteNumber("length", l.Length);
            json.WriteNumber("sequences", l.Sequences);
            json.WriteNumber("accuracy", l.Accuracy);
            json.WriteNumber("last_accuracy", l.LastAccuracy);
            json.WriteStartArray("position_accuracy");
            foreach (double a in l.PositionAccuracy) json.WriteNumberValue(Math.Round(a, 5));
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter json, string name, double value)
    {
        // JSON has no NaN/Infinity; null keeps the file parseable.
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }
}
