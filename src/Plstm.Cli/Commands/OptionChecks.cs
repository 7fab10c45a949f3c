using System.CommandLine;
using Plstm.Training;

namespace Plstm.Cli.Commands;

/// <summary>Helpers shared by the verbs: option range checks reported as parse errors, and the mapping of library
/// input errors to one-line usage errors.</summary>
internal static class OptionChecks
{
    /// <summary>Adds a range check to <paramref name="option"/> that reports <paramref name="message"/> as a parse error.</summary>
    public static void Add<T>(Option<T> option, Func<T, bool> isValid, string message) =>
        option.Validators.Add(result =>
        {
            T? value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                // The token does not convert (e.g. "--count x"): the parser reports that error itself.
                return;
            }
            if (!isValid(value!)) result.AddError(message);
        });

    /// <summary>Throws the usage error "--<paramref name="option"/> must be <paramref name="rule"/> (got value)" unless
    /// <paramref name="ok"/>: the one wording of every settings check made after parsing (config files included).</summary>
    /// <exception cref="CliUsageException"><paramref name="ok"/> is false.</exception>
    public static void Require(bool ok, string option, object? value, string rule)
    {
        if (!ok)
            throw new CliUsageException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--{option} must be {rule} (got {value})."));
    }

    /// <summary>Checks a <c>--device</c> value.</summary>
    /// <exception cref="CliUsageException">Unknown device, or CUDA unavailable.</exception>
    public static void Device(string device)
    {
        try
        {
            TrainingDevice.Resolve(device);
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException($"--device '{device}': {ex.Message}", ex);
        }
    }

    /// <summary>The <c>--threads</c> option of the verbs that run a model.</summary>
    public static Option<int?> ThreadsOption()
    {
        var threads = new Option<int?>("--threads")
        {
            Description = "libtorch intra-op threads (default: one per core). On a machine shared with other busy "
                + "processes, 1 avoids the large slowdown of waiting threads.",
        };
        Add(threads, v => v is null or >= 1, "--threads must be ≥ 1.");
        return threads;
    }

    /// <summary>The <c>--tf32</c> flag of the verbs that train or time models on CUDA.</summary>
    public static Option<bool> Tf32Option() => new("--tf32")
    {
        Description = "On CUDA, let cuBLAS and the 2D operator's masked attention kernel use TF32 tensor cores for float32 "
            + "matrix products (PyTorch's set_float32_matmul_precision(\"high\"): faster, about 10 mantissa bits per product). "
            + "No effect on the CPU.",
    };

    /// <summary>Sets cuBLAS's TF32 flag for this process (TorchSharp 0.107 has no <c>set_float32_matmul_precision</c>;
    /// this is the flag its "high" sets). cuDNN's own flag (convolutions) stays at libtorch's default.</summary>
    public static void ApplyTf32(bool tf32) => TorchSharp.torch.backends.cuda.matmul.allow_tf32 = tf32;

    /// <summary>The names a compute dtype takes (<c>--compute-dtype</c> of <c>train</c> and <c>bench step</c>, the config
    /// key <c>compute_dtype</c>).</summary>
    public static readonly string[] ComputeDtypeNames = ["float32", "bfloat16", "float16"];

    /// <summary>The compute dtype <paramref name="name"/> names (<see cref="ComputeDtypeNames"/>): null for float32 (the
    /// parameters' own), bfloat16 or float16 for mixed precision (<see cref="Plstm.Models.VisionModel.ComputeDtype"/>).</summary>
    /// <exception cref="CliUsageException">Another name; the message names <paramref name="setting"/>.</exception>
    public static TorchSharp.torch.ScalarType? ComputeDtype(string name, string setting) => name switch
    {
        "float32" => null,
        "bfloat16" => TorchSharp.torch.ScalarType.BFloat16,
        "float16" => TorchSharp.torch.ScalarType.Float16,
        _ => throw new CliUsageException($"{setting} must be float32, bfloat16 or float16, got '{name}'."),
    };

    /// <summary><c>--tta none|flips|d4</c> (default none): average the class probabilities over symmetric views of each
    /// image (<see cref="Plstm.Training.SymmetryAveraging"/>).</summary>
    public static Option<string> TtaOption()
    {
        var tta = new Option<string>("--tta")
        {
            Description = "Average the class probabilities over symmetric views of each image: none (default), flips "
                + "(4 views) or d4 (the square's 8 symmetries). Only for data whose label survives them (arrows).",
            DefaultValueFactory = _ => "none",
        };
        tta.AcceptOnlyFromAmong([.. Plstm.Training.TestTimeAugmentationNames.All]);
        return tta;
    }

    /// <summary>Sets libtorch's intra-op thread count when <paramref name="threads"/> is given.</summary>
    public static void ApplyThreads(int? threads)
    {
        if (threads is int n) TorchSharp.torch.set_num_threads(n);
    }

    /// <summary>Runs <paramref name="load"/>; missing or bad input (files, values) becomes a <see cref="CliUsageException"/>.</summary>
    public static T Usage<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception ex) when (IsUsageError(ex))
        {
            throw AsUsage(ex);
        }
    }

    /// <inheritdoc cref="Usage{T}(Func{T})"/>
    public static void Usage(Action run) => Usage(() =>
    {
        run();
        return true;
    });

    /// <summary>Whether <paramref name="ex"/> reports missing or bad input (a value, a file, a folder) rather than a
    /// failure: what <see cref="Usage{T}"/> turns into a usage error.</summary>
    public static bool IsUsageError(Exception ex) =>
        ex is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException;

    /// <summary><paramref name="ex"/> as a usage error with its one-line message (<see cref="MessageOf"/>).</summary>
    public static CliUsageException AsUsage(Exception ex) => new(MessageOf(ex), ex);

    /// <summary>The exception's message for a one-line error: without the " (Parameter 'x')" that .NET appends to an
    /// <see cref="ArgumentException"/>'s message (the library's messages name the argument themselves).</summary>
    public static string MessageOf(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex is ArgumentException { ParamName: { Length: > 0 } name }
            ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
            : ex.Message;
    }
}
