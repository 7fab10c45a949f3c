using System.Globalization;
using Plstm.Experiments;
using Plstm.Training;
using Spectre.Console;

namespace Plstm.Cli.Training;

/// <summary>Shows the progress of an experiment run: Spectre.Console progress bars on a terminal, plain lines
/// otherwise.</summary>
public abstract class TrainingView
{
    /// <summary>Runs <paramref name="body"/>, showing the progress it reports.</summary>
    public abstract T Run<T>(Func<IProgress<ExperimentProgress>, T> body);

    /// <summary>The view for <paramref name="output"/>: Spectre when <paramref name="interactive"/>, else plain lines.</summary>
    public static TrainingView Create(TextWriter output, ExperimentPreset preset, bool interactive) =>
        interactive ? new SpectreTrainingView(output) : new PlainTrainingView(output, preset);

    /// <summary><c>3.0e-4</c>: one decimal of mantissa, unpadded exponent.</summary>
    public static string FormatLearningRate(double lr)
    {
        if (!(lr > 0) || !double.IsFinite(lr)) return lr.ToString("0.0", CultureInfo.InvariantCulture);
        int exponent = (int)Math.Floor(Math.Log10(lr));
        double mantissa = Math.Round(lr / Math.Pow(10, exponent), 1);
        if (mantissa >= 10) (mantissa, exponent) = (mantissa / 10, exponent + 1);
        return string.Create(CultureInfo.InvariantCulture, $"{mantissa:0.0}e{exponent}");
    }

    /// <summary><c>" stage 2/4"</c> for a training step under the symmetry curriculum, else empty.</summary>
    public static string Stage(TrainingProgress t) =>
        t.CurriculumStage is int stage ? string.Create(CultureInfo.InvariantCulture, $" stage {stage}/{SymmetryCurriculum.FinalStage}") : "";

    /// <summary><c>1h02m</c>, <c>4m10s</c>, <c>12s</c>.</summary>
    public static string FormatEta(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m"
        : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s"
        : $"{Math.Max(0, (int)Math.Round(t.TotalSeconds))}s";
}

/// <summary>
/// One line per <c>LogEverySteps</c> training steps and per evaluation, e.g.
/// <c>[plstm] step 100/1500 loss 0.6931 acc 0.512 lr 1.0e-3 212.4 img/s eta 4m10s</c>.
/// </summary>
public sealed class PlainTrainingView(TextWriter output, ExperimentPreset preset) : TrainingView
{
    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override T Run<T>(Func<IProgress<ExperimentProgress>, T> body) =>
        body(new SyncProgress<ExperimentProgress>(Report));

    private void Report(ExperimentProgress p)
    {
        var inv = CultureInfo.InvariantCulture;
        string tag = $"[{p.ModelKey}]";
        switch (p.Stage)
        {
            case ExperimentStage.ModelStarting:
            {
                var model = preset.Models.First(m => m.Key == p.ModelKey);
                _states[p.ModelKey] = new State();
                output.WriteLine(string.Create(inv,
                    $"{tag} training {model.Preset} ({p.ModelIndex + 1}/{p.ModelCount}): {p.Steps} steps, batch {preset.BatchSize}, lr {FormatLearningRate(model.LearningRate)}"));
                break;
            }
            case ExperimentStage.Training when p.Training is { } t:
            {
                var state = _states.TryGetValue(p.ModelKey, out var s) ? s : _states[p.ModelKey] = new State();
                if (t.Split != "train")
                {
                    output.WriteLine(string.Create(inv,
                        $"{tag} val step {t.Step}/{t.TotalSteps} loss {t.Loss:0.0000} acc {t.Accuracy:0.000} {t.ImagesPerSecond:0.0} img/s"));
                    break;
                }
                double stepSeconds = t.ImagesPerSecond > 0 ? preset.BatchSize / t.ImagesPerSecond : 0;
                state.Loss += t.Loss;
                state.Accuracy += t.Accuracy;
                state.Seconds += stepSeconds;
                state.Count++;
                state.AllSeconds += stepSeconds;
                state.AllSteps++;
                if (t.Step % preset.LogEverySteps == 0 || t.Step == t.TotalSteps || t.Step == 1)
                {
                    double rate = state.Seconds > 0 ? state.Count * preset.BatchSize / state.Seconds : 0;
                    var eta = TimeSpan.FromSeconds(state.AllSeconds / state.AllSteps * (t.TotalSteps - t.Step));
                    output.WriteLine(string.Create(inv,
                        $"{tag} step {t.Step}/{t.TotalSteps} loss {state.Loss / state.Count:0.0000} acc {state.Accuracy / state.Count:0.000} lr {FormatLearningRate(t.LearningRate ?? 0)} {rate:0.0} img/s eta {FormatEta(eta)}{Stage(t)}"));
                    state.Loss = state.Accuracy = state.Seconds = 0;
                    state.Count = 0;
                }
                break;
            }
            case ExperimentStage.Evaluated when p.Evaluation is { } e:
                output.WriteLine(string.Create(inv,
                    $"{tag} {e.Describe()}: loss {e.Loss:0.0000} acc {e.Accuracy:0.000} ({e.Count} images)"));
                break;
            case ExperimentStage.ModelFinished when p.Model is { } m:
                output.WriteLine(string.Create(inv,
                    $"{tag} done: {m.Steps} steps in {ExperimentResult.FormatDuration(m.TrainSeconds)}{(m.SecondsPerStep is double sps ? $" ({sps:0.000} s/step)" : "")}"));
                break;
        }
        output.Flush();
    }

    private sealed class State
    {
        public double Loss, Accuracy, Seconds, AllSeconds;
        public int Count;
        public long AllSteps;
    }
}

/// <summary>Spectre.Console progress: one bar per model with loss, accuracy, learning rate, throughput, elapsed time
/// and ETA; evaluation results are printed when the bars are done.</summary>
/// <remarks>
/// The bars are redrawn on the training thread, from the progress callback (at most every
/// <see cref="RefreshInterval"/>, and at every change of stage), never by Spectre's own refresh thread. Why: a
/// background thread that allocates while training runs can start a garbage collection during a libtorch call, and
/// TorchSharp 0.107 passes temporary <c>Scalar</c>s (e.g. the alpha of <c>a + b</c>) to native code without keeping
/// them alive, so such a collection may finalize a Scalar that libtorch is still reading ("Unknown scalar type",
/// "Expected false to be true"). With only the training thread allocating, collections happen between native calls.
/// </remarks>
public sealed class SpectreTrainingView(TextWriter output) : TrainingView
{
    /// <summary>Shortest time between two redraws triggered by training steps.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(200);

    /// <inheritdoc />
    public override T Run<T>(Func<IProgress<ExperimentProgress>, T> body)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        var notes = new List<string>();
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .AutoRefresh(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<string, (ProgressTask Task, Smoothed Stats)>(StringComparer.Ordinal);
                var inv = CultureInfo.InvariantCulture;
                var sinceRefresh = System.Diagnostics.Stopwatch.StartNew();
                var progress = new SyncProgress<ExperimentProgress>(p =>
                {
                    Update(p);
                    if (p.Stage != ExperimentStage.Training || sinceRefresh.Elapsed >= RefreshInterval)
                    {
                        context.Refresh();
                        sinceRefresh.Restart();
                    }
                });
                result = body(progress);
                context.Refresh();

                void Update(ExperimentProgress p)
                {
                    switch (p.Stage)
                    {
                        case ExperimentStage.ModelStarting:
                            tasks[p.ModelKey] = (context.AddTask(Markup.Escape($"{p.ModelKey}: starting"),
                                autoStart: false, maxValue: Math.Max(1, p.Steps)), new Smoothed());
                            break;
                        case ExperimentStage.Training when p.Training is { } t && tasks.TryGetValue(p.ModelKey, out var entry):
                        {
                            var (task, stats) = entry;
                            if (!task.IsStarted)
                            {
                                task.Value = Math.Max(0, t.Step - 1);
                                task.StartTask();
                            }
                            if (t.Split == "train")
                            {
                                stats.Add(t.Loss, t.Accuracy, t.ImagesPerSecond);
                                task.Value = t.Step;
                                stats.Lr = t.LearningRate ?? 0;
                                stats.Stage = Stage(t);
                            }
                            else
                            {
                                stats.Val = t.Accuracy;
                            }
                            task.Description = Markup.Escape(string.Create(inv,
                                $"{p.ModelKey}: loss {stats.Loss:0.0000} acc {stats.Accuracy:0.000} lr {FormatLearningRate(stats.Lr)} {stats.Rate:0.0} img/s")
                                + (stats.Val is double v ? string.Create(inv, $" val {v:0.000}") : "") + stats.Stage);
                            break;
                        }
                        case ExperimentStage.Evaluating when tasks.TryGetValue(p.ModelKey, out var entry):
                            entry.Task.Description = Markup.Escape($"{p.ModelKey}: evaluating {p.EvaluationName} @{p.ImageSize}…");
                            break;
                        case ExperimentStage.Evaluated when p.Evaluation is { } e:
                            notes.Add(string.Create(inv,
                                $"[{p.ModelKey}] {e.Describe()}: loss {e.Loss:0.0000} acc {e.Accuracy:0.000} ({e.Count} images)"));
                            break;
                        case ExperimentStage.ModelFinished when p.Model is { } m && tasks.TryGetValue(p.ModelKey, out var entry):
                            entry.Task.Value = entry.Task.MaxValue;
                            entry.Task.Description = Markup.Escape(string.Create(inv,
                                $"{p.ModelKey}: done, {m.Steps} steps") + (m.SecondsPerStep is double s
                                ? string.Create(inv, $", {s:0.000} s/step") : ""));
                            entry.Task.StopTask();
                            break;
                    }
                }
            });
        foreach (string note in notes) output.WriteLine(note);
        output.Flush();
        return result;
    }

    /// <summary>Exponential moving averages of the step values.</summary>
    private sealed class Smoothed
    {
        private const double Decay = 0.9;
        private bool _any;
        public double Loss, Accuracy, Rate, Lr;
        public string Stage = "";
        public double? Val;

        public void Add(double loss, double accuracy, double rate)
        {
            if (!_any)
            {
                (Loss, Accuracy, Rate, _any) = (loss, accuracy, rate, true);
                return;
            }
            Loss = Decay * Loss + (1 - Decay) * loss;
            Accuracy = Decay * Accuracy + (1 - Decay) * accuracy;
            Rate = Decay * Rate + (1 - Decay) * rate;
        }
    }
}
