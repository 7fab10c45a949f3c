namespace Plstm.Training.Graph;

/// <summary>Accuracy and ROC-AUC from class probabilities (graph classification metrics, models §7.5).</summary>
public static class ClassificationMetrics
{
    /// <summary>Binary ROC-AUC of scores for the positive class (Mann–Whitney U with tied scores counted half);
    /// null when one of the two classes is absent.</summary>
    public static double? BinaryRocAuc(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(positive);
        if (scores.Count != positive.Count) throw new ArgumentException("scores and labels differ in length.", nameof(positive));
        int n = scores.Count;
        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[n];
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) j++;
            double rank = 0.5 * (i + j) + 1.0;                                          // average 1-based rank of the tie
            for (int r = i; r <= j; r++) ranks[order[r]] = rank;
            i = j + 1;
        }
        long pos = positive.Count(p => p), neg = n - pos;
        if (pos == 0 || neg == 0) return null;
        double rankSum = 0;
        for (int i = 0; i < n; i++) if (positive[i]) rankSum += ranks[i];
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>Macro one-vs-rest ROC-AUC over all classes (for two classes: the binary AUC of class 1); null when a
    /// class has no test sample or no other class does.</summary>
    /// <param name="probabilities">Row-major <c>[n, classes]</c>.</param>
    /// <param name="labels">Class index per sample.</param>
    /// <param name="classes">Number of classes.</param>
    public static double? MacroRocAuc(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(labels);
        int n = labels.Count;
        if (probabilities.Count != (long)n * classes)
            throw new ArgumentException("probabilities must be [n, classes].", nameof(probabilities));
        if (classes == 2)
            return BinaryRocAuc(Enumerable.Range(0, n).Select(i => probabilities[i * 2 + 1]).ToArray(),
                labels.Select(l => l == 1).ToArray());
        double sum = 0;
        for (int c = 0; c < classes; c++)
        {
            var auc = BinaryRocAuc(Enumerable.Range(0, n).Select(i => probabilities[i * classes + c]).ToArray(),
                labels.Select(l => l == c).ToArray());
            if (auc is null) return null;
            sum += auc.Value;
        }
        return sum / classes;
    }
}
