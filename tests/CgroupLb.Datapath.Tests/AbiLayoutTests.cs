using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using CgroupLb.Datapath.Abi;
using CgroupLb.Datapath.Loading;
using CgroupLb.Datapath.Writing;
using CgroupLb.Model.LoadBalancing;

namespace CgroupLb.Datapath.Tests;

/// <summary>
/// Compares every C# mirror with the struct clang compiled from bpf/lib/lb_abi.h, using the BTF in
/// build/bpf/abi_check.bpf.o (dumped by bpftool): same size, and each C field at the offset of its C# twin.
/// A C field maps to the C# field with its PascalCase name, or that name plus "Be" for network-order fields.
/// Enums are compared value by value, and the limits the host keeps as constants with the header's defines.
/// </summary>
public class AbiLayoutTests
{
    public static TheoryData<string, Type> Mirrors => new()
    {
        { "lb4_service_key", typeof(Lb4ServiceKey) },
        { "lb_service_value_v2", typeof(LbServiceValue) },
        { "lb4_backend", typeof(Lb4Backend) },
        { "lb4_reverse_sk_key", typeof(Lb4ReverseSkKey) },
        { "lb4_reverse_sk_value", typeof(Lb4ReverseSkValue) },
        { "lb4_sk_frontend", typeof(Lb4SkFrontend) },
        { "lb4_sk_claim", typeof(Lb4SkClaim) },
        { "lb_service_stats", typeof(LbServiceStats) },
        { "lb_service_name", typeof(LbServiceName) },
        { "lb_datapath_config", typeof(LbDatapathConfig) },
        { "lb_skip_netns_value", typeof(LbSkipNetnsValue) },
        { "sock_term_key", typeof(SockTermKey) },
        { "sock_term_event", typeof(SockTermEvent) },
        { "sock_term6_key", typeof(SockTerm6Key) },
        { "lb4_refused", typeof(Lb4Refused) },
        { "lb6_service_key", typeof(Lb6ServiceKey) },
        { "lb6_service_value", typeof(Lb6ServiceValue) },
        { "lb6_backend", typeof(Lb6Backend) },
        { "lb6_reverse_sk_key", typeof(Lb6ReverseSkKey) },
        { "lb6_reverse_sk_value", typeof(Lb6ReverseSkValue) },
        { "lb6_sk_frontend", typeof(Lb6SkFrontend) },
        { "lb6_sk_claim", typeof(Lb6SkClaim) },
        { "lb_trace_control", typeof(LbTraceControl) },
        { "lb_trace_event", typeof(LbTraceEvent) },
        { "lb_affinity_key", typeof(LbAffinityKey) },
        { "lb_affinity_value", typeof(LbAffinityValue) },
        { "lb_node_addr", typeof(LbNodeAddress) },
    };

    [Theory]
    [MemberData(nameof(Mirrors))]
    public void MirrorMatchesTheCStruct(string cName, Type mirror)
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

    public static TheoryData<string, string, Type> Enums => new()
    {
        { "lb_service_flags", "LB_SVC_F_", typeof(LbServiceFlags) },
        { "lb_scope", "LB_SCOPE_", typeof(LbScope) },
        { "lb_trace_hook", "LB_TRACE_HOOK_", typeof(LbTraceHook) },
        { "lb_trace_verdict", "LB_TRACE_", typeof(LbTraceVerdict) },
        { "lb_node_addr_flags", "LB_NODE_ADDR_F_", typeof(LbNodeAddrFlags) },
    };

    /// <summary>Every enumerator of the C enum has a C# member of the same name and value, and nothing more.</summary>
    [Theory]
    [MemberData(nameof(Enums))]
    public void EnumMirrorHasTheCValues(string cName, string prefix, Type mirror)
    {
        Assert.True(BtfEnums.Value.TryGetValue(cName, out var c), $"enum {cName} is not in the BTF of abi_check.bpf.o");
        // LB_SVC_F_LOADBALANCER -> LoadBalancer: compare without underscores and case.
        static string Norm(string s) => s.Replace("_", "").ToUpperInvariant();
        var csharp = Enum.GetNames(mirror).Where(n => n != "None")
            .ToDictionary(Norm, n => Convert.ToInt64(Enum.Parse(mirror, n), System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (name, value) in c)
        {
            Assert.True(csharp.TryGetValue(Norm(name[prefix.Length..]), out long mine), $"{mirror.Name} has no member for {name}");
            Assert.Equal(value, mine);
        }
        Assert.Equal(c.Count, csharp.Count);
    }

    /// <summary>The model's flags reach the kernel as the ABI bit of the same name, whatever the model's numbers.</summary>
    [Fact]
    public void ModelServiceFlagsMapToTheABIBitOfTheSameName()
    {
        foreach (var flag in Enum.GetValues<ServiceFlags>().Where(f => f != ServiceFlags.None))
        {
            var abi = ServiceFlagsAbi.ToAbi(flag);
            Assert.Equal(flag.ToString(), abi.ToString());
            Assert.Equal(flag, ServiceFlagsAbi.ToModel(abi));
        }
        var all = Enum.GetValues<ServiceFlags>().Aggregate((a, b) => a | b);
        Assert.Equal(all, ServiceFlagsAbi.ToModel(ServiceFlagsAbi.ToAbi(all)));
        Assert.Equal(ServiceFlags.ClusterIp | ServiceFlags.LocalOnly,
            LbServiceValue.Master(1, 1, ServiceFlags.ClusterIp | ServiceFlags.LocalOnly, 0).ServiceFlags);
    }

    /// <summary>Limits no map can tell are constants in the host; each must equal its define in lb_abi.h.</summary>
    [Fact]
    public void HostLimitsEqualTheHeaderDefines()
    {
        string header = File.ReadAllText(Path.Combine(RepoRoot(), "bpf", "lib", "lb_abi.h"));
        long Define(string name)
        {
            var m = Regex.Match(header, $@"^#define\s+{name}\s+(0x[0-9A-Fa-f]+|\d+)U?\b", RegexOptions.Multiline);
            Assert.True(m.Success, $"lb_abi.h has no numeric #define {name}");
            string text = m.Groups[1].Value;
            return text.StartsWith("0x", StringComparison.Ordinal)
                ? long.Parse(text[2..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)
                : long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.Equal(LbLimits.MaxBackendSlots, Define("LB_MAX_BACKEND_SLOTS"));
        Assert.Equal(LbLimits.DefaultServiceIdLimit, Define("LB_MAX_SERVICE_ID"));
        Assert.Equal(LbServiceName.Length, Define("LB_SERVICE_NAME_LEN"));
        Assert.Equal(CgroupLb.Datapath.Loading.DatapathOptions.DefaultServiceMapMax, Define("LB_SERVICE_MAP_MAX"));
        Assert.Equal(CgroupLb.Datapath.Loading.DatapathOptions.DefaultBackendMapMax, Define("LB_BACKEND_MAP_MAX"));
        Assert.Equal(ServiceGenerations.Limit, Define("LB_SVC_GEN_LIMIT"));
        Assert.Equal(Lb4SkClaim.DefaultSlots, Define("LB4_SK_CLAIM_SLOTS"));
        Assert.Equal(1UL << 63, Lb4SkClaim.Writing);
        Assert.Matches(@"(?m)^#define\s+LB4_SK_CLAIM_WRITING\s+\(1ULL << 63\)", header);
        Assert.Equal(FrontendAddressFilter.BitsLog2, Define("LB4_FE_FILTER_BITS_LOG2"));
        Assert.Equal(FrontendAddressFilter.HashMultiplier, Define("LB4_FE_FILTER_HASH_MUL"));
        // lb6_fe_filter shares lb4_fe_filter's geometry and multiplier (FrontendAddressFilter6 uses those constants).
        foreach (string part in new[] { "BITS_LOG2", "WORDS", "ARMED", "HASH_MUL" })
            Assert.Matches($@"(?m)^#define\s+LB6_FE_FILTER_{part}\s+LB4_FE_FILTER_{part}\b", header);
    }

    /// <summary>lb_svc_stats is what the host reads the service id limit from: it must be created LB_MAX_SERVICE_ID big.</summary>
    [Theory]
    [InlineData(EmbeddedObject.ResourceName)]
    [InlineData(EmbeddedObject.KernelBtfResourceName)]
    public void StatsMapIsSizedByTheMaxServiceId(string objectName)
    {
        var doc = Dump(objectName);
        var types = doc.RootElement.GetProperty("types").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetInt32());
        var maps = types.Values.Single(t => t.GetProperty("kind").GetString() == "DATASEC" && t.GetProperty("name").GetString() == ".maps");
        var stats = maps.GetProperty("vars").EnumerateArray()
            .Select(v => types[v.GetProperty("type_id").GetInt32()])
            .Single(v => v.GetProperty("name").GetString() == MapNames.ServiceStats);
        // A BTF map definition: max_entries is a pointer to an array whose length is the value.
        var def = types[stats.GetProperty("type_id").GetInt32()];
        var member = def.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "max_entries");
        var pointer = types[member.GetProperty("type_id").GetInt32()];
        var array = types[pointer.GetProperty("type_id").GetInt32()];
        Assert.Equal(LbLimits.DefaultServiceIdLimit, array.GetProperty("nr_elems").GetUInt32());
    }

    /// <summary>Both builds of the programs (for kernels without and with BTF) take the loader's configuration the same way.</summary>
    [Theory]
    [InlineData(EmbeddedObject.ResourceName)]
    [InlineData(EmbeddedObject.KernelBtfResourceName)]
    public void ConfigIsTheOnlyRodataVariableAtOffset0(string objectName)
    {
        var doc = Dump(objectName);
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

    private static readonly Lazy<Dictionary<string, List<(string Name, long Value)>>> BtfEnums = new(() =>
    {
        var doc = Dump("abi_check.bpf.o");
        var result = new Dictionary<string, List<(string, long)>>();
        foreach (var t in doc.RootElement.GetProperty("types").EnumerateArray())
        {
            if (t.GetProperty("kind").GetString() != "ENUM")
                continue;
            result[t.GetProperty("name").GetString()!] = t.GetProperty("values").EnumerateArray()
                .Select(v => (v.GetProperty("name").GetString()!, v.GetProperty("val").GetInt64()))
                .ToList();
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
