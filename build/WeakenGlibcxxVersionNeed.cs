#nullable enable
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;

// MSBuild inline task (RoslynCodeTaskFactory). See WeakenGlibcxxNeed.targets for why it exists.
// ELF layout used (64-bit little-endian only, the only kind libtorch ships for linux-x64):
//   header: e_shoff @0x28 (u64), e_shentsize @0x3A (u16), e_shnum @0x3C (u16)
//   section header (64 bytes): sh_type @4 (u32), sh_offset @24 (u64), sh_size @32, sh_link @40 (u32), sh_info @44 (u32)
//   SHT_GNU_verneed = 0x6ffffffe; Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32
//   Elf64_Vernaux: vna_hash u32, vna_flags u16 (VER_FLG_WEAK = 2), vna_other u16, vna_name u32, vna_next u32
public class WeakenGlibcxxVersionNeed : Microsoft.Build.Utilities.Task
{
    public string Folder { get; set; } = "";
    public string Version { get; set; } = "";

    private static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib64/libstdc++.so.6",
    };

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
            return true;
        if (!Directory.Exists(Folder))
            return true;
        var libs = Directory.GetFiles(Folder, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (libs.Length == 0)
            return true;
        string? systemLib = Array.Find(LibStdCxxCandidates, File.Exists);
        if (systemLib != null && Contains(File.ReadAllBytes(systemLib), Encoding.ASCII.GetBytes(Version + "\0")))
        {
            Log.LogMessage(MessageImportance.Normal, $"Plstm: {systemLib} defines {Version}; libLibTorchSharp.so left as is.");
            return true;
        }
        int patched = 0, already = 0;
        foreach (var path in libs)
        {
            try
            {
                var result = Patch(path, Version);
                if (result == PatchResult.Patched) patched++;
                else if (result == PatchResult.AlreadyWeak) already++;
            }
            catch (Exception ex) when (ex is IOException || ex is InvalidDataException || ex is UnauthorizedAccessException)
            {
                Log.LogError($"Plstm: could not mark {Version} weak in {path}: {ex.Message}");
                return false;
            }
        }
        Log.LogMessage(MessageImportance.High,
            $"Plstm: system libstdc++ lacks {Version}; marked that version need weak in {patched} libLibTorchSharp.so file(s) under {Folder} ({already} already weak).");
        return true;
    }

    private enum PatchResult { Patched, AlreadyWeak, NotNeeded }

    private static PatchResult Patch(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        byte[] wanted = Encoding.ASCII.GetBytes(version);
        for (int s = 0; s < shnum; s++)
        {
            int sh = checked((int)shoff + s * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != 0x6ffffffe) continue; // SHT_GNU_verneed
            int verneed = checked((int)BitConverter.ToUInt64(elf, sh + 24));
            int link = (int)BitConverter.ToUInt32(elf, sh + 40), count = (int)BitConverter.ToUInt32(elf, sh + 44);
            int strtab = checked((int)BitConverter.ToUInt64(elf, checked((int)shoff + link * shentsize) + 24));
            int vn = verneed;
            for (int i = 0; i < count; i++)
            {
                int auxCount = BitConverter.ToUInt16(elf, vn + 2);
                int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);
                for (int j = 0; j < auxCount; j++)
                {
                    int name = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (NameEquals(elf, name, wanted))
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & 2) != 0) return PatchResult.AlreadyWeak;
                        flags |= 2;
                        elf[aux + 4] = (byte)(flags & 0xff);
                        elf[aux + 5] = (byte)(flags >> 8);
                        var stamp = File.GetLastWriteTimeUtc(path);
                        string tmp = path + ".weak.tmp";
                        File.WriteAllBytes(tmp, elf);
                        File.Replace(tmp, path, null);
                        // Keep the package's timestamp so an incremental build's copy step sees the file as
                        // unchanged and does not put the unpatched original back.
                        File.SetLastWriteTimeUtc(path, stamp);
                        return PatchResult.Patched;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                vn += (int)BitConverter.ToUInt32(elf, vn + 12);
            }
        }
        return PatchResult.NotNeeded;
    }

    private static bool NameEquals(byte[] elf, int at, byte[] wanted)
    {
        if (at + wanted.Length >= elf.Length) return false;
        for (int i = 0; i < wanted.Length; i++)
            if (elf[at + i] != wanted[i]) return false;
        return elf[at + wanted.Length] == 0;
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }
}
