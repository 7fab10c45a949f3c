using System.Text;
using Plstm.Data.Text;
using Plstm.Training;

namespace Plstm.Tests.Language;

/// <summary>Loading, validation, splits and windows of <see cref="ByteCorpus"/>.</summary>
public sealed class ByteCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("plstm-corpus-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(1000, 900, 100)]
    [InlineData(1001, 900, 101)]
    [InlineData(7, 6, 1)]
    [InlineData(1, 0, 1)]
    public void The_split_is_90_10_by_position(int length, int train, int validation)
    {
        var bytes = Enumerable.Range(0, length).Select(i => (byte)('a' + i % 26)).ToArray();
        var corpus = ByteCorpus.Load(Write("c.txt", bytes));
        Assert.Equal(length, corpus.Length);
        Assert.Equal(train, corpus.TrainLength);
        Assert.Equal(validation, corpus.ValidationLength);
        Assert.Equal(bytes[..train], corpus.Split(CorpusSplit.Train).ToArray());
        Assert.Equal(bytes[train..], corpus.Split(CorpusSplit.Validation).ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0x62, 0x63, 0xFF, 0x64 }, 3)]                 // never valid
    [InlineData(new byte[] { 0x61, 0xC3, 0xA9, 0x62, 0xC3 }, 4)]                 // truncated at the end
    [InlineData(new byte[] { 0x61, 0xC0, 0x80 }, 1)]                             // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, 0)]                             // UTF-16 surrogate
    [InlineData(new byte[] { 0x61, 0x62, 0x80 }, 2)]                             // lone continuation byte
    public void Non_UTF8_is_rejected_naming_the_file_and_the_offset(byte[] bytes, int offset)
    {
        var path = Write("bad.txt", bytes);
        var ex = Assert.Throws<InvalidDataException>(() => ByteCorpus.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains($"byte offset {offset}", ex.Message);
        Assert.Equal(offset, ByteCorpus.FindInvalidUtf8(bytes));
    }

    [Fact]
    public void Multibyte_UTF8_is_accepted_as_bytes()
    {
        var bytes = Encoding.UTF8.GetBytes("naïve — 日本語 🎭\n");
        var corpus = ByteCorpus.Load(Write("ok.txt", bytes));
        Assert.Equal(bytes.Length, corpus.Length);
        Assert.Null(ByteCorpus.FindInvalidUtf8(bytes));
    }

    [Fact]
    public void Empty_and_missing_files_are_errors()
    {
        var path = Write("empty.txt", []);
        var ex = Assert.Throws<InvalidDataException>(() => ByteCorpus.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("empty", ex.Message);
        Assert.Throws<FileNotFoundException>(() => ByteCorpus.Load(Path.Combine(_dir, "nope.txt")));
        var notFound = Assert.Throws<FileNotFoundException>(() => ByteCorpus.LocateTinyShakespeare(_dir));
        Assert.Contains(ByteCorpus.TinyShakespeareFileName, notFound.Message);
    }

    [Fact]
    public void Windows_are_seeded_contiguous_slices_of_the_split()
    {
        var random = new Random(4);
        var bytes = Enumerable.Range(0, 2000).Select(_ => (byte)random.Next(32, 127)).ToArray();   // printable ASCII
        var corpus = ByteCorpus.FromBytes(bytes, "synthetic");
        var a = corpus.TrainingBatch(4, 16, seed: 5, step: 3);
        var b = corpus.TrainingBatch(4, 16, seed: 5, step: 3);
        var c = corpus.TrainingBatch(4, 16, seed: 5, step: 4);
        Assert.Equal(new long[] { 4, 17 }, a.shape);
        Assert.Equal(ScalarType.Int64, a.dtype);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
        var rows = a.data<long>().ToArray();
        for (int r = 0; r < 4; r++)
        {
            // Contiguous run of the corpus, inside the train split (first 1800 bytes).
            var row = rows.Skip(r * 17).Take(17).ToArray();
            int start = Enumerable.Range(0, 2000 - 16).First(s => Enumerable.Range(0, 17).All(i => bytes[s + i] == row[i]));
            Assert.InRange(start, 0, 1800 - 17);
        }

        var validation = corpus.SampleWindows(CorpusSplit.Validation, 3, 199, new TrainingRandom(1));
        Assert.Equal(new long[] { 3, 200 }, validation.shape);
        Assert.Equal(bytes[1800..], validation[0].data<long>().Select(v => (byte)v).ToArray());  // the only window
        var tooLong = Assert.Throws<ArgumentException>(() => corpus.SampleWindows(CorpusSplit.Validation, 1, 200, new TrainingRandom(1)));
        Assert.Contains("Validation", tooLong.Message);
    }

    [Fact]
    public void Sequential_windows_cover_every_target_once()
    {
        var bytes = Enumerable.Range(0, 1000).Select(i => (byte)(32 + i % 90)).ToArray();
        var corpus = ByteCorpus.FromBytes(bytes, "synthetic");                           // validation = 100 bytes
        var batches = corpus.SequentialWindows(CorpusSplit.Validation, 2, 24).ToList();  // (100 − 1) / 24 = 4 windows
        Assert.Equal(new[] { 2L, 2L }, batches.Select(x => x.shape[0]));
        var all = cat(batches, 0);
        Assert.Equal(new long[] { 4, 25 }, all.shape);
        for (int w = 0; w < 4; w++)
            Assert.Equal(bytes.Skip(900 + w * 24).Take(25).Select(v => (long)v), all[w].data<long>().ToArray());
        Assert.Single(corpus.SequentialWindows(CorpusSplit.Validation, 8, 24, maxWindows: 3));
    }

    [SkippableFact]
    public void Tiny_shakespeare_is_found_and_matches_its_checksum()
    {
        string path;
        try { path = ByteCorpus.LocateTinyShakespeare(); }
        catch (FileNotFoundException) { Skip.If(true, "tiny Shakespeare is not available here"); return; }
        var corpus = ByteCorpus.LoadTinyShakespeare(path);
        Assert.Equal(ByteCorpus.TinyShakespeareLength, corpus.Length);
        Assert.Equal(1_003_854, corpus.TrainLength);
        Assert.Equal(111_540, corpus.ValidationLength);
        Assert.Equal(ByteCorpus.TinyShakespeareSha256, corpus.Sha256());
        Assert.StartsWith("First Citizen:", Encoding.UTF8.GetString(corpus.Bytes.Span[..20]));
        // A folder given explicitly is searched for the file too.
        Assert.Equal(path, ByteCorpus.LocateTinyShakespeare(Path.GetDirectoryName(path)));
    }
}
