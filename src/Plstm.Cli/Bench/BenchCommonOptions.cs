using System.CommandLine;
using System.Globalization;
using Plstm.Cli.Commands;
using Plstm.Training;

namespace Plstm.Cli.Bench;

/// <summary>
/// The options every bench subcommand has (<c>--device</c>, <c>--dtype</c>, <c>--warmup</c>, <c>--iters</c>,
/// <c>--sync-every</c>, <c>--out</c>, <c>--json</c>, <c>--max-seconds</c>, <c>--threads</c>, <c>--seed</c>,
/// <c>--tf32</c>) and their parsing
/// into a <see cref="BenchSettings"/>.
/// </summary>
public sealed class BenchCommonOptions
{
    private readonly Option<string> _device = new("--device")
    {
        Description = "cpu (default), cuda or cuda:N.",
        DefaultValueFactory = _ => "cpu",
    };

    private readonly Option<string> _dtype = new("--dtype")
    {
        Description = "Compute dtype(s), comma-separated: float32 (default), bfloat16.",
        DefaultValueFactory = _ => "float32",
    };

    private readonly Option<int> _warmup = new("--warmup")
    {
        Description = "Untimed warm-up iterations per row (default 3).",
        DefaultValueFactory = _ => 3,
    };

    private readonly Option<int> _iters = new("--iters")
    {
        Description = "Timed iterations per row (default 10); each ends with a device synchronisation (see --sync-every).",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<int> _syncEvery = new("--sync-every")
    {
        Description = "Synchronise the device after every N timed iterations instead of after each (default 1); each "
            + "iteration's time is then its window's mean: throughput with the host free to issue the next iteration "
            + "while the device still runs the last, as a training loop that does not read a value back every step.",
        DefaultValueFactory = _ => 1,
    };

    private readonly Option<string?> _out = new("--out") { Description = "Also write the markdown report to this file (rewritten after every row)." };
    private readonly Option<string?> _json = new("--json") { Description = "Also write the JSON results to this file (rewritten after every row)." };

    private readonly Option<double?> _maxSeconds = new("--max-seconds")
    {
        Description = "Time limit of the whole command: stop between iterations when the next one would pass it, mark "
            + "the remaining rows skipped and still write the report.",
    };

    private readonly Option<long> _seed = new("--seed")
    {
        Description = "Seed of the random inputs and initialisation (default 0).",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<int?> _threads = OptionChecks.ThreadsOption();

    private readonly Option<bool> _tf32 = OptionChecks.Tf32Option();

    /// <summary>Creates the options with their range checks.</summary>
    public BenchCommonOptions()
    {
        OptionChecks.Add(_warmup, v => v >= 0, "--warmup must be ≥ 0.");
        OptionChecks.Add(_iters, v => v >= 1, "--iters must be ≥ 1.");
        OptionChecks.Add(_syncEvery, v => v >= 1, "--sync-every must be ≥ 1.");
        OptionChecks.Add(_maxSeconds, v => v is null or (> 0 and < double.PositiveInfinity), "--max-seconds must be a positive number.");
    }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (Option option in new Option[] { _device, _dtype, _warmup, _iters, _syncEvery, _out, _json, _maxSeconds, _seed,
                     _threads, _tf32 })
            command.Options.Add(option);
    }

    /// <summary>Reads and checks the options; bad values are <see cref="CliUsageException"/>s.</summary>
    public BenchSettings Read(ParseResult parseResult, string verb)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        string device = parseResult.GetValue(_device) ?? "cpu";
        OptionChecks.Device(device);
        var dtypes = BenchLists.Dtypes("--dtype", parseResult.GetValue(_dtype));
        string? markdown = OutputPath("--out", parseResult.GetValue(_out));
        string? json = OutputPath("--json", parseResult.GetValue(_json));
        if (markdown is not null && markdown == json)
            throw new CliUsageException("--out and --json must be different files.");
        return new BenchSettings(TrainingDevice.Resolve(device), dtypes, parseResult.GetValue(_warmup),
            parseResult.GetValue(_iters), markdown, json, parseResult.GetValue(_maxSeconds), parseResult.GetValue(_threads),
            parseResult.GetValue(_seed), CommandLine(parseResult, verb), parseResult.GetValue(_tf32),
            parseResult.GetValue(_syncEvery));
    }

    /// <summary>An output file path: its folder is created if missing; a folder at the path itself is an error.</summary>
    private static string? OutputPath(string option, string? path)
    {
        if (path is null) return null;
        if (path.Trim().Length == 0) throw new CliUsageException($"{option}: the file name is empty.");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new CliUsageException($"{option} '{path}' is a folder; give a file name.");
        return full;
    }

    /// <summary>The command line as typed (tokens after the executable), for the report.</summary>
    private static string CommandLine(ParseResult parseResult, string verb)
    {
        static string Quote(string token) =>
            token.Length > 0 && token.All(c => char.IsLetterOrDigit(c) || "-_.,:/=@+%".Contains(c)) ? token : $"'{token}'";
        var tokens = parseResult.Tokens.Select(t => Quote(t.Value)).ToList();
        // The tokens hold the verb and subcommand as typed; fall back to the verb when they were not recorded.
        string line = string.Join(' ', tokens);
        return string.Create(CultureInfo.InvariantCulture, $"{PlstmApp.Name} {(line.Length > 0 ? line : verb)}");
    }
}
