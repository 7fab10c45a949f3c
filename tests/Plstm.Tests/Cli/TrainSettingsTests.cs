using Plstm.Training;
using Plstm.Tests.Support;
using Plstm.Cli;
using Plstm.Cli.Training;
using Plstm.Experiments;
using Plstm.Models;

namespace Plstm.Tests.Cli;

/// <summary><c>--config</c> files (JSON and YAML) and how they combine with the command line and the experiment.</summary>
public sealed class TrainSettingsTests
{
    [Fact]
    public void Yaml_and_json_configs_read_the_same_settings()
    {
        using var temp = new TempFolder();
        string yaml = temp.File("run.yaml");
        File.WriteAllText(yaml, "# comment\nexperiment: ape-small\nsteps: 300\nbatch-size: 32\nlr: 3e-4\nresume: true\nout: 'runs/x'\ndevice: cpu\n");
        string json = temp.File("run.json");
        File.WriteAllText(json, "{\"experiment\": \"ape-small\", \"steps\": 300, \"batch_size\": 32, \"lr\": 0.0003, \"resume\": true, \"out\": \"runs/x\", \"device\": \"cpu\"}");

        foreach (string path in new[] { yaml, json })
        {
            var s = TrainSettings.Load(path);
            Assert.Equal("ape-small", s.Experiment);
            Assert.Equal(300, s.Steps);
            Assert.Equal(32, s.BatchSize);
            Assert.Equal(3e-4, s.Lr);
            Assert.True(s.Resume);
            Assert.Equal("runs/x", s.Out);
            Assert.Null(s.Seed);
        }
    }

    [Fact]
    public void Command_line_wins_over_the_config_which_wins_over_the_experiment()
    {
        using var temp = new TempFolder();
        string yaml = temp.File("run.yml");
        File.WriteAllText(yaml, "experiment: ape-small\nsteps: 600\nlr: 3e-4\nseed: 7\n");
        var settings = TrainSettings.Load(yaml).Overlay(new TrainSettings { Steps = 100, BatchSize = 16 });

        var (preset, options) = TrainPlan.Build(settings);
        var basis = ExperimentRegistry.Get("ape-small");
        Assert.Equal(100, preset.Steps);                               // command line
        Assert.Equal(16, preset.BatchSize);                            // command line
        Assert.All(preset.Models, m => Assert.Equal(3e-4, m.LearningRate)); // config
        Assert.Equal(7, preset.Seed);                                  // config
        Assert.Equal(7, preset.Data.TrainSeed);                        // arrows: the run seed is the training set's seed
        Assert.Equal(basis.WarmupSteps * 100 / basis.Steps, preset.WarmupSteps); // warm-up share kept
        Assert.Equal(basis.WeightDecay, preset.WeightDecay);          // experiment
        Assert.Equal(Path.Combine("runs", "ape-small"), options.OutputFolder);
        Assert.False(options.Resume);
    }

    [Fact]
    public void A_preset_run_on_arrows_uses_the_ape_small_recipe_and_data()
    {
        var (preset, _) = TrainPlan.Build(new TrainSettings { Preset = "vit_tiny", Data = "arrows" });
        var basis = ExperimentRegistry.Get("ape-small");
        var model = Assert.Single(preset.Models);
        Assert.Equal(("vit_tiny", "vit_tiny"), (model.Key, model.Preset));
        Assert.Equal(basis.Models.Single(m => m.Preset == "vit_tiny").LearningRate, model.LearningRate);
        Assert.Equal(basis.Data, preset.Data);
        Assert.Equal(basis.Steps, preset.Steps);
        Assert.Equal("vit_tiny-arrows", preset.Name);
        Assert.Equal(ExperimentRegistry.ApeSmallConvStem, model.ConvStemWidth);   // the recipe's stem too
    }

    [Fact]
    public void Conv_stem_comes_from_the_flag_or_the_config_and_reaches_every_model()
    {
        using var temp = new TempFolder();
        string yaml = temp.File("stem.yaml");
        File.WriteAllText(yaml, "experiment: ape-small\nconv_stem: 16\nema_decay: 0.995\n");
        var (fromConfig, _) = TrainPlan.Build(TrainSettings.Load(yaml));
        Assert.All(fromConfig.Models, m => Assert.Equal(16, m.Spec(64, 3, 2).Plstm?.ConvStemWidth ?? m.Spec(64, 3, 2).Vit!.ConvStemWidth));
        Assert.Equal(0.995, fromConfig.EmaDecay);
        Assert.All(fromConfig.Models, m => Assert.Null(m.ConvStemKind));            // the preset's (max-pool)
        var (strided, _) = TrainPlan.Build(TrainSettings.Load(yaml).Overlay(new TrainSettings { ConvStemKind = "Strided" }));
        Assert.All(strided.Models, m => Assert.Equal(ConvStemKind.Strided, m.Spec(64, 3, 2).Plstm?.ConvStemKind ?? m.Spec(64, 3, 2).Vit!.ConvStemKind));
        Assert.Equal(0.995, fromConfig.TrainerOptions(fromConfig.Models[0], null, "cpu", false).EmaDecay);
        var (off, _) = TrainPlan.Build(TrainSettings.Load(yaml).Overlay(new TrainSettings { ConvStem = 0, EmaDecay = 0 }));
        Assert.Equal(0, off.EmaDecay);
        Assert.All(off.Models, m => Assert.Equal(0, m.ConvStemWidth));
        var (fashion, _) = TrainPlan.Build(new TrainSettings { Experiment = "fashion-mnist", ConvStem = 8 });
        Assert.Equal(8, Assert.Single(fashion.Models).Spec(28, 1, 10).Plstm!.ConvStemWidth);
    }

    /// <summary><c>--recompute</c> / <c>recompute: true</c> reaches the run's preset, and the runner's networks then have
    /// every pLSTM 2D layer recompute in backward (the ViT has none); off by default.</summary>
    [Fact]
    public void Recompute_comes_from_the_flag_or_the_config_and_reaches_every_plstm_layer()
    {
        using var temp = new TempFolder();
        string yaml = temp.File("recompute.yaml");
        File.WriteAllText(yaml, "experiment: ape-small\nrecompute: true\n");
        var (fromConfig, _) = TrainPlan.Build(TrainSettings.Load(yaml));
        Assert.True(fromConfig.RecomputeInBackward);
        var (byDefault, _) = TrainPlan.Build(new TrainSettings { Experiment = "ape-small" });
        Assert.False(byDefault.RecomputeInBackward);
        var (off, _) = TrainPlan.Build(TrainSettings.Load(yaml).Overlay(new TrainSettings { Recompute = false }));
        Assert.False(off.RecomputeInBackward);

        var spec = fromConfig.Models[0].Spec(64, 3, 2);
        using (var recomputing = ExperimentRunner.CreateNetwork(spec, recompute: true))
        {
            var layers = recomputing.modules().OfType<Plstm.Layers.Plstm2DLayer>().ToList();
            Assert.NotEmpty(layers);
            Assert.All(layers, l => Assert.True(l.RecomputeInBackward));
        }
        using (var storing = ExperimentRunner.CreateNetwork(spec, recompute: false))
            Assert.All(storing.modules().OfType<Plstm.Layers.Plstm2DLayer>(), l => Assert.False(l.RecomputeInBackward));
        using var vit = ExperimentRunner.CreateNetwork(fromConfig.Models[1].Spec(64, 3, 2), recompute: true);
        Assert.Empty(vit.modules().OfType<Plstm.Layers.Plstm2DLayer>());
    }

    /// <summary><c>--compute-dtype</c> / <c>compute_dtype</c> reaches the run's preset and the runner's networks (float32
    /// parameters, the given compute dtype); float32 and the default compute in the parameters' dtype; other values are
    /// refused naming the key.</summary>
    [Fact]
    public void Compute_dtype_comes_from_the_flag_or_the_config_and_reaches_the_networks()
    {
        using var temp = new TempFolder();
        string yaml = temp.File("mixed.yaml");
        File.WriteAllText(yaml, "experiment: ape-small\ncompute_dtype: bfloat16\n");
        var (fromConfig, _) = TrainPlan.Build(TrainSettings.Load(yaml));
        Assert.Equal(ScalarType.BFloat16, fromConfig.ComputeDtype);
        var (byDefault, _) = TrainPlan.Build(new TrainSettings { Experiment = "ape-small" });
        Assert.Null(byDefault.ComputeDtype);
        var (float32, _) = TrainPlan.Build(TrainSettings.Load(yaml).Overlay(new TrainSettings { ComputeDtype = "float32" }));
        Assert.Null(float32.ComputeDtype);
        var (half, _) = TrainPlan.Build(new TrainSettings { Experiment = "ape-small", ComputeDtype = "float16" });
        Assert.Equal(ScalarType.Float16, half.ComputeDtype);
        var error = Assert.Throws<CliUsageException>(() =>
            TrainPlan.Build(new TrainSettings { Experiment = "ape-small", ComputeDtype = "int8" }));
        Assert.Contains("compute_dtype", error.Message, StringComparison.Ordinal);
        // The worker processes get the settings as JSON: the key survives the round trip.
        Assert.Equal("bfloat16", TrainSettings.FromJson(TrainSettings.Load(yaml).ToJson(), "worker").ComputeDtype);

        foreach (var model in fromConfig.Models)
        {
            using var network = ExperimentRunner.CreateNetwork(model.Spec(64, 3, 2), recompute: false, fromConfig.ComputeDtype);
            Assert.Equal(ScalarType.BFloat16, network.ComputeDtype);
            Assert.All(network.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        }
    }

    [Fact]
    public void Test_time_augmentation_comes_from_the_preset_and_the_config_or_flag_override_it()
    {
        var (ape, _) = TrainPlan.Build(new TrainSettings { Experiment = "ape-small" });
        Assert.Equal(TestTimeAugmentation.Dihedral, ape.TestTimeAugmentation);
        Assert.True(ape.AugmentsTest("test"));
        Assert.False(ape.AugmentsTest("test-ext"));
        var (fashion, _) = TrainPlan.Build(new TrainSettings { Experiment = "fashion-mnist" });
        Assert.False(fashion.AugmentsTest("test"));

        using var temp = new TempFolder();
        string yaml = temp.File("tta.yaml");
        File.WriteAllText(yaml, "experiment: ape-small\ntta: flips\n");
        var (flips, _) = TrainPlan.Build(TrainSettings.Load(yaml));
        Assert.Equal(TestTimeAugmentation.Flips, flips.TestTimeAugmentation);
        var (none, _) = TrainPlan.Build(TrainSettings.Load(yaml).Overlay(new TrainSettings { Tta = "none" }));
        Assert.False(none.AugmentsTest("test"));
    }

    [Fact]
    public void Fashion_mnist_augments_by_default_and_the_flags_and_config_override_it()
    {
        var (preset, _) = TrainPlan.Build(new TrainSettings { Experiment = "fashion-mnist" });
        Assert.Equal((2, 0.5, 0.1), (preset.RandomCropPadding, preset.HorizontalFlipProbability, preset.LabelSmoothing));
        // A --preset run on fashion-mnist takes the experiment's recipe, augmentation included.
        (preset, _) = TrainPlan.Build(new TrainSettings { Preset = "vit_tiny", Data = "fashion-mnist" });
        Assert.Equal((2, 0.5, 0.1), (preset.RandomCropPadding, preset.HorizontalFlipProbability, preset.LabelSmoothing));

        using var temp = new TempFolder();
        string yaml = temp.File("aug.yaml");
        File.WriteAllText(yaml, "experiment: fashion-mnist\nrandom_crop: 4\nhflip: 0.25\nlabel-smoothing: 0.05\n");
        string json = temp.File("aug.json");
        File.WriteAllText(json, "{\"experiment\": \"fashion-mnist\", \"random-crop-padding\": 4, \"horizontal_flip_probability\": 0.25, \"label_smoothing\": 0.05}");
        foreach (string path in new[] { yaml, json })
        {
            (preset, _) = TrainPlan.Build(TrainSettings.Load(path));
            Assert.Equal((4, 0.25, 0.05), (preset.RandomCropPadding, preset.HorizontalFlipProbability, preset.LabelSmoothing));
        }

        var off = TrainSettings.Load(yaml).Overlay(new TrainSettings { RandomCrop = 0, HorizontalFlip = 0, LabelSmoothing = 0 });
        (preset, _) = TrainPlan.Build(off);
        Assert.Equal((0, 0.0, 0.0), (preset.RandomCropPadding, preset.HorizontalFlipProbability, preset.LabelSmoothing));

        (preset, _) = TrainPlan.Build(new TrainSettings { Experiment = "ape-small" });
        Assert.Equal((0, 0.0, 0.0), (preset.RandomCropPadding, preset.HorizontalFlipProbability, preset.LabelSmoothing));
    }

    [Fact]
    public void Unknown_keys_and_wrong_types_are_usage_errors_naming_the_key()
    {
        using var temp = new TempFolder();
        string path = temp.File("bad.yaml");
        File.WriteAllText(path, "stepz: 3\n");
        var ex = Assert.Throws<CliUsageException>(() => TrainSettings.Load(path));
        Assert.Contains("unknown key 'stepz'", ex.Message);

        File.WriteAllText(path, "steps: many\n");
        ex = Assert.Throws<CliUsageException>(() => TrainSettings.Load(path));
        Assert.Contains("'steps' must be an integer", ex.Message);

        File.WriteAllText(path, "steps:\n  - 1\n");
        ex = Assert.Throws<CliUsageException>(() => TrainSettings.Load(path));
        Assert.Contains("single value", ex.Message);
    }

    [Fact]
    public void Every_setting_survives_the_json_a_model_worker_is_given()
    {
        // Each property set to a value of its type that differs from the others, so a key mix-up shows.
        var settings = new TrainSettings();
        int n = 0;
        foreach (var property in typeof(TrainSettings).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            n++;
            object value = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType switch
            {
                var t when t == typeof(string) => (object)$"text {n} \"quoted\" ünï",
                var t => throw new InvalidOperationException($"unexpected type {t}"),
            };
            value = value switch
            {
                Type t when t == typeof(int) => n,
                Type t when t == typeof(long) => 10_000_000_000L + n,
                Type t when t == typeof(double) => 0.1 * n + 1e-17,
                Type t when t == typeof(bool) => n % 2 == 0,
                Type t => throw new InvalidOperationException($"unexpected type {t}"),
                _ => value,
            };
            property.SetValue(settings, value);
        }
        var back = TrainSettings.FromJson(settings.ToJson(), "test");
        foreach (var property in typeof(TrainSettings).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
            Assert.Equal(property.GetValue(settings), property.GetValue(back));
        // Unset settings stay unset (the worker must not invent values).
        Assert.Equal("{}", new TrainSettings().ToJson());
    }
}
