namespace Plstm.Models;

/// <summary>Field checks shared by <see cref="PlstmVisionConfig"/> and <see cref="VitConfig"/>.</summary>
internal static class VisionConfigChecks
{
    /// <summary>Checks the fields both configs have; messages name <c>Record.Field</c>.</summary>
    public static void Common(string record, int dim, int numHeads, int numBlocks, int patchSize, int imageSize,
        int numChannels, int numClasses, double dropPathRate, double normEps, int convStemWidth,
        ConvStemKind convStemKind = ConvStemKind.MaxPool)
    {
        Positive(record, "Dim", dim);
        Positive(record, "NumHeads", numHeads);
        Positive(record, "NumBlocks", numBlocks);
        Positive(record, "PatchSize", patchSize);
        Positive(record, "ImageSize", imageSize);
        Positive(record, "NumChannels", numChannels);
        Positive(record, "NumClasses", numClasses);
        if (imageSize % patchSize != 0)
            throw new ArgumentException(
                $"{record}.ImageSize must be a multiple of PatchSize = {patchSize}, got {imageSize}.", "ImageSize");
        if (convStemWidth < 0)
            throw new ArgumentException($"{record}.ConvStemWidth must be ≥ 0 (0 = no stem), got {convStemWidth}.",
                "ConvStemWidth");
        if (!Enum.IsDefined(convStemKind))
            throw new ArgumentException($"{record}.ConvStemKind is not a stem kind (got {convStemKind}).", "ConvStemKind");
        if (convStemWidth > 0 && !ConvStem.Supports(patchSize))
            throw new ArgumentException(
                $"{record}.PatchSize must be a power of two ≥ 2 with a convolutional stem (ConvStemWidth = {convStemWidth}), got {patchSize}.",
                "PatchSize");
        if (!(dropPathRate >= 0 && dropPathRate < 1))
            throw new ArgumentException($"{record}.DropPathRate must be in [0, 1), got {dropPathRate}.", "DropPathRate");
        if (!(normEps > 0) || double.IsInfinity(normEps))
            throw new ArgumentException($"{record}.NormEps must be positive and finite, got {normEps}.", "NormEps");
    }

    private static void Positive(string record, string field, int value)
    {
        if (value <= 0)
            throw new ArgumentException($"{record}.{field} must be positive, got {value}.", field);
    }
}
