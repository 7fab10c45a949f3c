namespace Plstm.Interop;

/// <summary>On-disk formats of a model state (a flat map from parameter name to tensor).</summary>
public enum CheckpointFormat
{
    /// <summary>
    /// <a href="https://github.com/huggingface/safetensors">safetensors</a>: an 8-byte header length, a JSON index and
    /// the raw little-endian tensor bytes. Read in Python with <c>safetensors.torch.load_file</c>.
    /// </summary>
    Safetensors,

    /// <summary>
    /// A PyTorch <c>state_dict</c> written as <c>torch.save</c> does (zip archive with <c>data.pkl</c>), read in Python
    /// with <c>torch.load</c> (also with <c>weights_only=True</c>). Usual extensions <c>.pth</c>, <c>.pt</c>, <c>.bin</c>.
    /// </summary>
    PyTorch,
}

/// <summary>Helpers for <see cref="CheckpointFormat"/>.</summary>
public static class CheckpointFormats
{
    /// <summary>
    /// The format implied by a file name: <c>.safetensors</c> → Safetensors; <c>.pth</c>, <c>.pt</c>, <c>.bin</c>,
    /// <c>.ckpt</c> → PyTorch.
    /// </summary>
    /// <exception cref="ArgumentException">The extension is none of these; pass the format explicitly.</exception>
    public static CheckpointFormat FromPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".safetensors" => CheckpointFormat.Safetensors,
            ".pth" or ".pt" or ".bin" or ".ckpt" => CheckpointFormat.PyTorch,
            var ext => throw new ArgumentException(
                $"Cannot tell the checkpoint format of '{path}' from its extension '{ext}': use .safetensors or "
                + ".pth/.pt/.bin, or pass the format explicitly.", nameof(path)),
        };
    }
}
