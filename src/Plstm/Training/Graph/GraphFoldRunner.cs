namespace Plstm.Training.Graph;

/// <summary>
/// Trains fold <paramref name="fold"/> of the run <paramref name="options"/> somewhere else than on the calling thread
/// (e.g. in a child process) and returns when the fold's <c>result.json</c> is written; throws when it failed.
/// <see cref="GraphCrossValidation.RunMany"/> uses it for parallel folds.
/// </summary>
/// <param name="options">The run (its output folder, recipe and data).</param>
/// <param name="fold">The 0-based fold index.</param>
/// <param name="cancellationToken">Cancelled when the run stops; the runner should stop the fold.</param>
public delegate void GraphFoldRunner(GraphCvOptions options, int fold, CancellationToken cancellationToken);
