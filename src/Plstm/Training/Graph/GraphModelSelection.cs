namespace Plstm.Training.Graph;

/// <summary>
/// Which epoch's weights a cross-validation fold keeps (its <c>best.ckpt</c>, the one evaluated on the test fold).
/// Every rule looks at the validation split only, never at the test fold.
/// </summary>
public enum GraphModelSelection
{
    /// <summary>
    /// The reference's rule (Lightning <c>ModelCheckpoint(monitor="valid/acc", mode="max")</c>): the first epoch whose
    /// validation accuracy is strictly higher than every earlier one. On small validation splits (MUTAG: 19 graphs)
    /// accuracy saturates within the first few epochs, and ties keep that first, barely trained epoch.
    /// </summary>
    Accuracy,

    /// <summary>
    /// Highest validation accuracy; among epochs tied on it, the lowest validation loss (a later epoch replaces the
    /// kept one when its accuracy is higher, or equal with a strictly lower loss). The loss separates epochs that
    /// classify the same few validation graphs correctly but with different confidence.
    /// </summary>
    AccuracyThenLoss,

    /// <summary>
    /// The lowest validation loss (cross-entropy), whatever the accuracy: the first epoch whose loss is strictly lower
    /// than every earlier one. A continuous criterion that does not saturate on small validation splits, at the price of
    /// preferring confident epochs to correct ones.
    /// </summary>
    Loss,
}

/// <summary>The comparison behind <see cref="GraphModelSelection"/>.</summary>
public static class GraphModelSelectionRule
{
    /// <summary>Whether an epoch with validation accuracy <paramref name="accuracy"/> and loss <paramref name="loss"/>
    /// replaces the kept one (<paramref name="bestAccuracy"/>, <paramref name="bestLoss"/>; −∞ and +∞ before the first
    /// epoch) under <paramref name="rule"/>.</summary>
    public static bool Replaces(this GraphModelSelection rule, double accuracy, double loss, double bestAccuracy,
        double bestLoss) => rule switch
    {
        GraphModelSelection.Loss => loss < bestLoss,
        GraphModelSelection.AccuracyThenLoss => accuracy > bestAccuracy || (accuracy == bestAccuracy && loss < bestLoss),
        _ => accuracy > bestAccuracy,
    };
}
