using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using CgroupLb.Datapath.Abi;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// Compares every C# mirror with the struct clang compiled from bpf/lib/lb_abi.h, using the BTF in
/// build/bpf/abi_check.bpf.o (dumped by bpftool): same size, and each C field at the offset of its C# twin.
/// A C field maps to the C# field with its PascalCase name, or that name plus "Be" for network-order fields.
/// </summary>
public class AbiLayoutTests
{
    public static TheoryData<string, Type> Mirrors => new()
    {
        { "lb4_service_key", typeof(Lb4ServiceKey) },
        { "lb_service_value", typeof(LbServiceValue) },
        { "lb4_backend", typeof(Lb4Backend) },
        { "lb4_reverse_sk_key", typeof(Lb4ReverseSkKey) },
        { "lb4_reverse_sk_value", typeof(Lb4ReverseSkValue) },
        { "lb_service_stats", typeof(LbServiceStats) },
        { "lb_service_name", typeof(LbServiceName) },
        { "lb_datapath_config", typeof(LbDatapathConfig) },
        { "lb4_refused", typeof(Lb4Refused) },
    };

    [Theory]
    [MemberData(nameof(Mirrors))]
    public void Mirror_matches_the_C_struct(string cName, Type mirror)
    {
        var structs = BtfStructs.Value;
        Assert.True(structs.TryGetValue(cName, out var c), $"struct {cName} is not in the BTF of abi_check.bpf.o");
        Assert.Equal(c.Size, Marshal.SizeOf(mirror));
        foreach (var (field, offset) in c.Members)
        {
            string pascal = string.Concat(field.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
            var f = mirror.GetField(pascal, BindingFlags.Public | BindingFlags.Instance)
                ?? mirror.GetField(pascal + "Be", BindingFlags.Public | BindingFlags.Instance);
            Assert.True(f is not null, $"{mirror.Name} has no field for {cName}.{field}");
            Assert.Equal(offset, (int)Marshal.OffsetOf(mirror, f!.Name));
        }
    }

    [Fact]
    public void Config_is_the_only_rodata_variable_at_offset_0()
    {
        var doc = Dump("cgroup_lb.bpf.o");
        var types = doc.RootElement.GetProperty("types").EnumerateArray().ToList();
        var rodata = types.Single(t => t.GetProperty("kind").GetString() == "DATASEC" && t.GetProperty("name").GetString() == ".rodata");
        var vars = rodata.GetProperty("vars").EnumerateArray().ToList();
        var only = Assert.Single(vars);
        Assert.Equal(0, only.GetProperty("offset").GetInt32());
        Assert.Equal(Marshal.SizeOf<LbDatapathConfig>(), only.GetProperty("size").GetInt32());
    }

    private sealed record CStruct(int Size, List<(string Name, int Offset)> Members);

    private static readonly Lazy<Dictionary<string, CStruct>> BtfStructs = new(() =>
    {
        var doc = Dump("abi_check.bpf.o");
        var result = new Dictionary<string, CStruct>();
        foreach (var t in doc.RootElement.GetProperty("types").EnumerateArray())
        {
            if (t.GetProperty("kind").GetString() != "STRUCT")
                continue;
            var members = t.GetProperty("members").EnumerateArray()
                .Select(m => (m.GetProperty("name").GetString()!, m.GetProperty("bits_offset").GetInt32() / 8))
                .ToList();
            result[t.GetProperty("name").GetString()!] = new CStruct(t.GetProperty("size").GetInt32(), members);
        }
        return result;
    });

    private static JsonDocument Dump(string objectName)
    {
        string path = Path.Combine(RepoRoot(), "build", "bpf", objectName);
        Assert.True(File.Exists(path), $"{path} is missing: run 'make bpf' first");
        var psi = new ProcessStartInfo("bpftool", ["btf", "dump", "file", path, "format", "raw", "-j"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"bpftool btf dump failed: {p.StandardError.ReadToEnd()}");
        return JsonDocument.Parse(json);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CgroupLb.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
