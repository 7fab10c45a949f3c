namespace Plstm.Training.StateTracking;

/// <summary>The accuracy of a state-tracking model on the test set of one length.</summary>
/// <param name="Length">Sequence length T.</param>
/// <param name="Sequences">Sequences in the test set.</param>
/// <param name="Accuracy">Per-position accuracy: the share of correct predictions over all positions of all sequences.</param>
/// <param name="LastAccuracy">Last-position accuracy: the share of sequences whose prediction at position T − 1 (the
/// whole product) is correct.</param>
/// <param name="PositionAccuracy">Accuracy at each position 0 … T − 1 (over the sequences).</param>
public sealed record LengthAccuracy(int Length, int Sequences, double Accuracy, double LastAccuracy,
    IReadOnlyList<double> PositionAccuracy);
