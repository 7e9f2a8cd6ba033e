using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Loads cgroup_lb.bpf.o and attaches it, in libbpf-bootstrap's phases: open, configure, load (verify), check layouts,
/// attach, pin. Maps get their pin paths before load, so libbpf reuses maps already pinned there (the backends a
/// previous agent wrote survive a program upgrade) and pins new ones. On failure everything this call created is
/// undone: links destroyed (which detaches them), link pins and newly created map pins removed.
/// </summary>
internal static class ObjectLoader
{
    public static DatapathFeatures LoadAndAttach(DatapathOptions options, DatapathFeatures features, ILogger logger)
    {
        // Half-pinned state (a crash between attach and pin) would otherwise leave a second program on the hook.
        int stale = PinnedLinks.DetachAll(options, logger);
        if (stale > 0)
            logger.LogInformation("Removed {Count} links of an incomplete earlier attach", stale);

        var preexistingMaps = MapNames.All.Where(n => File.Exists(options.MapPinPath(n))).ToHashSet();
        var createdLinks = new List<(BpfLink Link, string PinPath)>();
        string phase = "open";
        BpfObject? bpfObject = null;
        try
        {
            byte[] elf = EmbeddedObject.Load(options.ObjectPath);
            bool setRetval = true;
            try
            {
                bpfObject = OpenConfigureLoad(elf, options, setRetval, ref phase);
            }
            catch (BpfException ex)
            {
                // Kernels before 5.18 refuse bpf_set_retval in sock_addr programs; with it off the verifier prunes the call.
                logger.LogDebug(ex, "Load with bpf_set_retval failed; retrying without it");
                setRetval = false;
                bpfObject = OpenConfigureLoad(elf, options, setRetval, ref phase);
                logger.LogWarning("Kernel lacks bpf_set_retval for sock_addr programs (needs 5.18): connects to a service without backends fail with EPERM instead of ECONNREFUSED");
            }
            features = features with { SetRetval = setRetval };
            CheckLayouts(bpfObject);

            phase = "attach";
            using var cgroup = CgroupDirectory.Open(options.CgroupPath);
            foreach (var programName in ProgramCatalog.All)
            {
                var link = bpfObject.GetProgram(programName).AttachCgroup(cgroup.Handle);
                string pin = PinnedLinks.PathOf(options, programName);
                createdLinks.Add((link, pin));
                link.Pin(pin);
            }

            foreach (var (link, _) in createdLinks)
                link.Dispose(); // pinned: closing our fd leaves the program attached
            createdLinks.Clear();
            logger.LogInformation("Loaded and attached {Count} programs to {Cgroup}; pinned under {Path}",
                ProgramCatalog.All.Count, options.CgroupPath, options.BpffsPath);
            return features;
        }
        catch (Exception ex)
        {
            foreach (var (link, pin) in createdLinks)
            {
                TryRun(() => { if (File.Exists(pin)) link.Unpin(); });
                TryRun(link.Dispose);
            }
            foreach (var name in MapNames.All.Where(n => !preexistingMaps.Contains(n)))
                TryRun(() => File.Delete(options.MapPinPath(name)));
            if (ex is DatapathException)
                throw;
            throw new DatapathException(phase, $"{phase} failed: {ex.Message}", ex);
        }
        finally
        {
            bpfObject?.Dispose();
        }
    }

    private static BpfObject OpenConfigureLoad(byte[] elf, DatapathOptions options, bool setRetval, ref string phase)
    {
        phase = "open";
        var bpfObject = BpfObject.OpenMemory(elf, "cgroup_lb");
        try
        {
            phase = "configure";
            Configure(bpfObject, setRetval);
            foreach (var name in MapNames.All)
                bpfObject.GetMap(name).SetPinPath(options.MapPinPath(name));
            phase = "load";
            bpfObject.Load();
            return bpfObject;
        }
        catch
        {
            bpfObject.Dispose();
            throw;
        }
    }

    /// <summary>Sets the read-only config (.rodata) between open and load, so the verifier prunes disabled branches.</summary>
    private static void Configure(BpfObject bpfObject, bool setRetval)
    {
        var rodata = bpfObject.Maps.FirstOrDefault(m => m.Name.EndsWith(".rodata", StringComparison.Ordinal))
            ?? throw new DatapathException("configure", "the BPF object has no .rodata section for its configuration");
        var bytes = rodata.GetInitialValue();
        int size = Marshal.SizeOf<LbDatapathConfig>();
        if (bytes.Length < size)
            throw new DatapathException("configure", $".rodata is {bytes.Length} bytes, smaller than struct lb_datapath_config ({size})");
        var config = MemoryMarshal.Read<LbDatapathConfig>(bytes);
        config.HaveSetRetval = setRetval ? 1u : 0u;
        MemoryMarshal.Write(bytes, in config);
        rodata.SetInitialValue(bytes);
    }

    private static void CheckLayouts(BpfObject bpfObject)
    {
        void Check<TKey, TValue>(string name) where TKey : unmanaged where TValue : unmanaged
        {
            var map = bpfObject.GetMap(name);
            PinnedMaps.CheckLayout(name, map.KeySize, map.ValueSize, Marshal.SizeOf<TKey>(), Marshal.SizeOf<TValue>());
        }
        Check<Lb4ServiceKey, LbServiceValue>(MapNames.Services);
        Check<uint, Lb4Backend>(MapNames.Backends);
        Check<Lb4ReverseSkKey, Lb4ReverseSkValue>(MapNames.ReverseSockets);
        Check<uint, LbServiceStats>(MapNames.ServiceStats);
        Check<uint, LbServiceName>(MapNames.ServiceNames);
        Check<Lb4ServiceKey, Lb4Refused>(MapNames.Refused);
    }

    private static void TryRun(Action action)
    {
        try { action(); }
        catch (Exception) { /* best effort while unwinding a failed load; the original error is what matters */ }
    }
}
