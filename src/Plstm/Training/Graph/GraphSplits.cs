namespace Plstm.Training.Graph;

/// <summary>One fold of a cross-validation: indices into the data set (graph indices).</summary>
/// <param name="Fold">Fold number (0-based).</param>
/// <param name="Train">Training graphs (in the order the reference's split returns them).</param>
/// <param name="Validation">Validation graphs (model selection).</param>
/// <param name="Test">Test graphs of this fold (ascending).</param>
/// <param name="Stratified">True when the folds are stratified (false: the reference's plain-KFold fallback).</param>
public sealed record GraphFold(int Fold, IReadOnlyList<int> Train, IReadOnlyList<int> Validation, IReadOnlyList<int> Test,
    bool Stratified);

/// <summary>
/// The reference's data split for graph classification (<c>plstm_graph/src/datamodules/tu_datasets.py</c>,
/// models §7.5), reproduced bit-exactly: test folds from scikit-learn's
/// <c>StratifiedKFold(n_splits, shuffle=True, random_state=seed)</c>, then each fold's training part split by
/// <c>train_test_split(train_val, train_size=0.888889, random_state=seed, stratify=y[train_val])</c> into training and
/// validation (≈ 8/9 and 1/9). When stratification is impossible (scikit-learn raises a <c>ValueError</c>: every class
/// smaller than the number of folds, or a class with fewer than 2 members in a training part), the reference falls back
/// to <c>KFold(n_splits, shuffle=True, random_state=seed)</c> and an unstratified <c>train_test_split</c>; so does this
/// class. Randomness: numpy's legacy <see cref="NumpyRandomState"/>, seeded afresh by each scikit-learn call, as there.
/// </summary>
public static class GraphSplits
{
    /// <summary>The reference's training fraction of a fold's training part (<c>train_size=0.888889</c>).</summary>
    public const double ReferenceTrainFraction = 0.888889;

    /// <summary>All <paramref name="folds"/> folds for the class labels <paramref name="labels"/> (one per graph).</summary>
    /// <param name="labels">Class label of each graph (any integers).</param>
    /// <param name="folds">Number of folds (≥ 2).</param>
    /// <param name="seed">The reference's <c>random_state</c> (42).</param>
    /// <param name="trainFraction">Fraction of a fold's training part kept for training (the rest validates).</param>
    /// <exception cref="ArgumentException">Fewer graphs than folds, or a fraction outside (0, 1).</exception>
    public static IReadOnlyList<GraphFold> CrossValidation(IReadOnlyList<int> labels, int folds = 10, uint seed = 42,
        double trainFraction = ReferenceTrainFraction)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "at least 2 folds");
        if (labels.Count < folds)
            throw new ArgumentException($"{labels.Count} graphs cannot be split into {folds} folds.", nameof(labels));
        if (!(trainFraction > 0 && trainFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "must be in (0, 1)");
        var y = labels.ToArray();
        try
        {
            var testFolds = StratifiedKFoldTestFolds(y, folds, seed);
            return Enumerable.Range(0, folds).Select(f =>
            {
                var (trainVal, test) = FoldIndices(testFolds, f);
                var (train, validation) = StratifiedTrainTestSplit(trainVal, trainVal.Select(i => y[i]).ToArray(),
                    trainFraction, seed);
                return new GraphFold(f, train, validation, test, Stratified: true);
            }).ToArray();
        }
        catch (StratificationException)
        {
            var testFolds = KFoldTestFolds(y.Length, folds, seed);
            return Enumerable.Range(0, folds).Select(f =>
            {
                var (trainVal, test) = FoldIndices(testFolds, f);
                var (train, validation) = ShuffleTrainTestSplit(trainVal, trainFraction, seed);
                return new GraphFold(f, train, validation, test, Stratified: false);
            }).ToArray();
        }
    }

    /// <summary>scikit-learn's <c>StratifiedKFold._make_test_folds</c> (shuffle on): the test fold of every sample.</summary>
    internal static int[] StratifiedKFoldTestFolds(int[] y, int folds, uint seed)
    {
        var rng = new NumpyRandomState(seed);
        // Classes encoded by order of first appearance.
        var firstSeen = new Dictionary<int, int>();
        foreach (var label in y) firstSeen.TryAdd(label, firstSeen.Count);
        var encoded = y.Select(l => firstSeen[l]).ToArray();
        int classes = firstSeen.Count;
        var counts = new int[classes];
        foreach (var c in encoded) counts[c]++;
        if (counts.All(c => folds > c))
            throw new StratificationException($"n_splits={folds} cannot be greater than the number of members in each class.");
        var order = encoded.Order().ToArray();
        var allocation = new int[folds, classes];
        for (int f = 0; f < folds; f++)
            for (int i = f; i < order.Length; i += folds)
                allocation[f, order[i]]++;
        var testFolds = new int[y.Length];
        for (int k = 0; k < classes; k++)
        {
            var foldsForClass = new List<int>();
            for (int f = 0; f < folds; f++)
                for (int r = 0; r < allocation[f, k]; r++) foldsForClass.Add(f);
            var array = foldsForClass.ToArray();
            rng.Shuffle(array);
            int next = 0;
            for (int i = 0; i < y.Length; i++)
                if (encoded[i] == k) testFolds[i] = array[next++];
        }
        return testFolds;
    }

    /// <summary>scikit-learn's <c>KFold(shuffle=True)</c>: the test fold of every sample.</summary>
    internal static int[] KFoldTestFolds(int count, int folds, uint seed)
    {
        var indices = Enumerable.Range(0, count).ToArray();
        new NumpyRandomState(seed).Shuffle(indices);
        var testFolds = new int[count];
        int current = 0;
        for (int f = 0; f < folds; f++)
        {
            int size = count / folds + (f < count % folds ? 1 : 0);
            for (int i = current; i < current + size; i++) testFolds[indices[i]] = f;
            current += size;
        }
        return testFolds;
    }

    /// <summary>
    /// scikit-learn's <c>train_test_split(indices, train_size=trainFraction, random_state=seed, stratify=y)</c>
    /// (one <c>StratifiedShuffleSplit</c> draw): returns (train, test) as elements of <paramref name="indices"/>.
    /// </summary>
    internal static (int[] Train, int[] Test) StratifiedTrainTestSplit(int[] indices, int[] y, double trainFraction, uint seed)
    {
        int n = indices.Length;
        int nTrain = (int)Math.Floor(trainFraction * n);
        int nTest = n - nTrain;
        var classes = y.Distinct().Order().ToArray();
        var classIndex = y.Select(l => Array.BinarySearch(classes, l)).ToArray();
        var counts = new int[classes.Length];
        foreach (var c in classIndex) counts[c]++;
        if (counts.Min() < 2)
            throw new StratificationException("The least populated class in y has only 1 member, which is too few.");
        if (nTrain < classes.Length || nTest < classes.Length)
            throw new StratificationException("The train or test size is smaller than the number of classes.");
        // np.argsort(kind="mergesort") is stable: per class, positions in ascending order.
        var perClass = Enumerable.Range(0, classes.Length)
            .Select(c => Enumerable.Range(0, n).Where(i => classIndex[i] == c).ToArray()).ToArray();
        var rng = new NumpyRandomState(seed);
        var nI = ApproximateMode(counts, nTrain, rng);
        var remaining = counts.Select((c, i) => c - nI[i]).ToArray();
        var tI = ApproximateMode(remaining, nTest, rng);
        var train = new List<int>();
        var test = new List<int>();
        for (int c = 0; c < classes.Length; c++)
        {
            var permutation = rng.Permutation(counts[c]);
            var members = permutation.Select(p => perClass[c][p]).ToArray();
            train.AddRange(members.Take(nI[c]));
            test.AddRange(members.Skip(nI[c]).Take(tI[c]));
        }
        var trainOrder = rng.Permutation(train);
        var testOrder = rng.Permutation(test);
        return (trainOrder.Select(i => indices[i]).ToArray(), testOrder.Select(i => indices[i]).ToArray());
    }

    /// <summary>scikit-learn's unstratified <c>train_test_split</c> (one <c>ShuffleSplit</c> draw).</summary>
    internal static (int[] Train, int[] Test) ShuffleTrainTestSplit(int[] indices, double trainFraction, uint seed)
    {
        int n = indices.Length;
        int nTrain = (int)Math.Floor(trainFraction * n);
        int nTest = n - nTrain;
        var permutation = new NumpyRandomState(seed).Permutation(n);
        return (permutation.Skip(nTest).Take(nTrain).Select(i => indices[i]).ToArray(),
            permutation.Take(nTest).Select(i => indices[i]).ToArray());
    }

    /// <summary>scikit-learn's <c>_approximate_mode(class_counts, n_draws, rng)</c>.</summary>
    internal static int[] ApproximateMode(int[] classCounts, int draws, NumpyRandomState rng)
    {
        double total = classCounts.Sum();
        var continuous = classCounts.Select(c => c / total * draws).ToArray();
        var floored = continuous.Select(Math.Floor).ToArray();
        double flooredSum = 0;
        foreach (var f in floored) flooredSum += f;
        int needToAdd = (int)(draws - flooredSum);
        if (needToAdd > 0)
        {
            var remainder = continuous.Select((c, i) => c - floored[i]).ToArray();
            foreach (var value in remainder.Distinct().OrderDescending())
            {
                var inds = Enumerable.Range(0, remainder.Length).Where(i => remainder[i] == value).ToArray();
                int addNow = Math.Min(inds.Length, needToAdd);
                foreach (var i in rng.ChooseWithoutReplacement(inds, addNow)) floored[i] += 1;
                needToAdd -= addNow;
                if (needToAdd == 0) break;
            }
        }
        return floored.Select(f => (int)f).ToArray();
    }

    private static (int[] TrainVal, int[] Test) FoldIndices(int[] testFolds, int fold)
    {
        var test = new List<int>();
        var trainVal = new List<int>();
        for (int i = 0; i < testFolds.Length; i++)
            (testFolds[i] == fold ? test : trainVal).Add(i);
        return (trainVal.ToArray(), test.ToArray());
    }

    private sealed class StratificationException(string message) : Exception(message);
}
