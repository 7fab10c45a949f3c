using Plstm.Cli.Training;
using Plstm.Experiments;
using Plstm.Training;

namespace Plstm.Tests.Cli;

/// <summary>The plain progress lines written when the output is redirected.</summary>
public sealed class TrainingViewTests
{
    [Theory]
    [InlineData(3e-4, "3.0e-4")]
    [InlineData(1e-3, "1.0e-3")]
    [InlineData(9.99e-4, "1.0e-3")]
    [InlineData(7.8125e-6, "7.8e-6")]
    [InlineData(0.0, "0.0")]
    public void Learning_rates_print_with_one_decimal(double lr, string expected) =>
        Assert.Equal(expected, TrainingView.FormatLearningRate(lr));

    [Fact]
    public void Plain_lines_average_the_window_and_show_rate_and_eta()
    {
        var preset = ExperimentRegistry.Get("ape-small") with { BatchSize = 10, LogEverySteps = 2 };
        using var writer = new StringWriter();
        var view = new PlainTrainingView(writer, preset);
        view.Run(progress =>
        {
            progress.Report(new ExperimentProgress(ExperimentStage.ModelStarting, "plstm", 0, 2, 4));
            for (int step = 1; step <= 4; step++)
                progress.Report(new ExperimentProgress(ExperimentStage.Training, "plstm", 0, 2, 4,
                    new TrainingProgress(step, 4, 0, "train", step, 0.5, 1e-3, 1, 20, TimeSpan.Zero,
                        CurriculumStage: step < 4 ? 1 : 2)));
            progress.Report(new ExperimentProgress(ExperimentStage.Training, "plstm", 0, 2, 4,
                new TrainingProgress(4, 4, 0, "val", 0.25, 0.875, null, null, 100, TimeSpan.Zero)));
            progress.Report(new ExperimentProgress(ExperimentStage.Evaluated, "plstm", 0, 2, 4,
                EvaluationName: "test-ext", ImageSize: 128, Evaluation: new NamedEvaluation("test-ext", 128, 0.5, 0.75, 1024)));
            return 0;
        });
        string[] lines = writer.ToString().TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(
        [
            "[plstm] training plstm_vit_tiny (1/2): 4 steps, batch 10, lr 5.0e-4",
            "[plstm] step 1/4 loss 1.0000 acc 0.500 lr 1.0e-3 20.0 img/s eta 2s stage 1/4",
            "[plstm] step 2/4 loss 2.0000 acc 0.500 lr 1.0e-3 20.0 img/s eta 1s stage 1/4",
            "[plstm] step 4/4 loss 3.5000 acc 0.500 lr 1.0e-3 20.0 img/s eta 0s stage 2/4",
            "[plstm] val step 4/4 loss 0.2500 acc 0.875 100.0 img/s",
            "[plstm] test-ext @128: loss 0.5000 acc 0.750 (1024 images)",
        ], lines);
    }

    /// <summary>
    /// The live bars must be drawn by the training thread only: another thread that allocates during training can
    /// trigger a collection while libtorch reads one of TorchSharp's temporary Scalars (see SpectreTrainingView).
    /// Spectre's default auto-refresh thread would write here within the pauses of 3 × 150 ms.
    /// </summary>
    [Fact]
    public void Live_bars_are_drawn_only_by_the_thread_that_reports_progress()
    {
        using var writer = new ThreadRecordingWriter();
        var view = new SpectreTrainingView(writer);
        int bodyThread = -1;
        view.Run(progress =>
        {
            bodyThread = Environment.CurrentManagedThreadId;
            progress.Report(new ExperimentProgress(ExperimentStage.ModelStarting, "plstm", 0, 1, 3));
            for (int step = 1; step <= 3; step++)
            {
                Thread.Sleep(150);
                progress.Report(new ExperimentProgress(ExperimentStage.Training, "plstm", 0, 1, 3,
                    new TrainingProgress(step, 3, 0, "train", 0.5, 0.5, 1e-3, 1, 20, TimeSpan.Zero)));
            }
            progress.Report(new ExperimentProgress(ExperimentStage.ModelFinished, "plstm", 0, 1, 3));
            return 0;
        });
        Assert.NotEmpty(writer.Threads);
        Assert.Equal([bodyThread], writer.Threads.Distinct().ToArray());
        Assert.Contains("plstm: loss 0.5000", writer.ToString());
    }

    private sealed class ThreadRecordingWriter : StringWriter
    {
        private readonly object _gate = new();
        public List<int> Threads { get; } = [];

        public override void Write(char value)
        {
            Record();
            base.Write(value);
        }

        public override void Write(string? value)
        {
            Record();
            base.Write(value);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            Record();
            base.Write(buffer, index, count);
        }

        private void Record()
        {
            lock (_gate) Threads.Add(Environment.CurrentManagedThreadId);
        }
    }
}
