using System.Runtime.InteropServices;
using CgroupLb.Datapath.Abi;
using CgroupLb.Interop;
using Microsoft.Extensions.Logging;

namespace CgroupLb.Datapath.Loading;

/// <summary>
/// Loads cgroup_lb.bpf.o and attaches it, in libbpf-bootstrap's phases: open, configure, load (verify), check layouts,
/// attach, pin. Maps get their pin paths before load, so libbpf reuses maps already pinned there (the backends a
/// previous agent wrote survive a program upgrade) and pins new ones. On failure everything this call created is
/// undone: links destroyed (which detaches them), link pins and newly created map pins removed. <see cref="Load"/> alone
/// serves adoption, where the programs are compared with the pinned ones and swapped into the existing links.
/// </summary>
internal static class ObjectLoader
{
    /// <summary>BPF_F_NO_PREALLOC, which the object declares on its hash maps; cleared by <see cref="DatapathOptions.PreallocateLbMaps"/>.</summary>
    private const uint NoPreallocFlag = 1;

    public static DatapathFeatures LoadAndAttach(DatapathOptions options, DatapathFeatures features, ILogger logger)
    {
        // Half-pinned state (a crash between attach and pin) would otherwise leave a second program on the hook.
        int stale = PinnedLinks.DetachAll(options, logger);
        if (stale > 0)
            logger.LogInformation("Removed {Count} links of an incomplete earlier attach", stale);

        var createdLinks = new List<(BpfLink Link, string PinPath)>();
        using var loaded = Load(options, features, logger);
        try
        {
            using var cgroup = CgroupDirectory.Open(options.CgroupPath);
            foreach (var programName in ProgramCatalog.All)
            {
                var link = loaded.Object.GetProgram(programName).AttachCgroup(cgroup.Handle);
                string pin = PinnedLinks.PathOf(options, programName);
                createdLinks.Add((link, pin));
                link.Pin(pin);
            }

            foreach (var (link, _) in createdLinks)
                link.Dispose(); // pinned: closing our fd leaves the program attached
            createdLinks.Clear();
            logger.LogInformation("Loaded and attached {Count} programs to {Cgroup}; pinned under {Path}",
                ProgramCatalog.All.Count, options.CgroupPath, options.BpffsPath);
            return loaded.Features;
        }
        catch (Exception ex)
        {
            foreach (var (link, pin) in createdLinks)
            {
                TryRun(() => { if (File.Exists(pin)) link.Unpin(); });
                TryRun(link.Dispose);
            }
            loaded.RemoveCreatedMapPins();
            if (ex is DatapathException)
                throw;
            throw new DatapathException("attach", $"attach failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Attaches and pins the programs named in <paramref name="programs"/> from an object loaded for adoption, when
    /// the pinned links lack them. On failure the links this call created are destroyed and unpinned; the adopted
    /// ones stay as they were.
    /// </summary>
    public static void AttachMissing(DatapathOptions options, LoadedObject loaded, IReadOnlyList<string> programs, ILogger logger)
    {
        var createdLinks = new List<(BpfLink Link, string PinPath)>();
        try
        {
            using var cgroup = CgroupDirectory.Open(options.CgroupPath);
            foreach (var programName in programs)
            {
                var link = loaded.Object.GetProgram(programName).AttachCgroup(cgroup.Handle);
                string pin = PinnedLinks.PathOf(options, programName);
                createdLinks.Add((link, pin));
                link.Pin(pin);
            }
            foreach (var (link, _) in createdLinks)
                link.Dispose();
            createdLinks.Clear();
            logger.LogInformation("Attached {Programs} to {Cgroup}, which the adopted links lacked", string.Join(", ", programs), options.CgroupPath);
        }
        catch (Exception ex)
        {
            foreach (var (link, pin) in createdLinks)
            {
                TryRun(() => { if (File.Exists(pin)) link.Unpin(); });
                TryRun(link.Dispose);
            }
            if (ex is DatapathException)
                throw;
            throw new DatapathException("attach", $"attaching {string.Join(", ", programs)} next to the adopted links failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Opens, configures and loads the object with every map's pin path set: maps already pinned under the current
    /// names are checked (type, flags, sizes, capacity) and reused, missing ones are created and pinned. Attaches
    /// nothing. On failure the map pins this call created are removed. <paramref name="pinMaps"/> false is the probe
    /// (cgroup-lb doctor): the same loads with the same knob fallbacks, on fresh unpinned maps that vanish with the
    /// object, so nothing under the bpffs directory is read, created or removed.
    /// </summary>
    public static LoadedObject Load(DatapathOptions options, DatapathFeatures features, ILogger logger, bool pinMaps = true)
    {
        var preexistingMaps = pinMaps ? MapNames.All.Where(n => File.Exists(options.MapPinPath(n))).ToHashSet() : [.. MapNames.All];
        string phase = "open";
        ulong preallocatedBytes = 0;
        BpfObject? bpfObject = null;
        try
        {
            // An --object override is taken as it is; without the kfunc in the kernel's BTF the knob would be refused.
            uint slots = options.SocketClaimSlots;
            if (slots > DatapathOptions.MaxSocketClaimSlots || (slots & (slots - 1)) != 0)
                throw new DatapathException("configure", $"{MapNames.SocketClaims}: {slots} entries is not 0 or a power of two up to {DatapathOptions.MaxSocketClaimSlots}");
            bool kernelBtfObject = EmbeddedObject.KernelBtfObjectSuits;
            byte[] elf = EmbeddedObject.Load(options.ObjectPath, kernelBtfObject);
            var knobs = LoadKnobs.First(kernelBtfObject);
            while (true)
            {
                try
                {
                    bpfObject = OpenConfigureLoad(elf, options, knobs, kernelBtfObject, pinMaps, features.RingBuffer, ref phase, ref preallocatedBytes);
                    break;
                }
                catch (BpfException ex) when (knobs.Next() is { } fewer)
                {
                    // An older kernel refuses a helper one knob guards; with the knob off the verifier prunes the call.
                    logger.LogDebug(ex, "Load with {Knobs} failed; retrying with {Fewer}", knobs, fewer);
                    knobs = fewer;
                }
            }
            if (!knobs.SetRetval)
                logger.LogWarning("Kernel lacks bpf_set_retval for sock_addr programs (needs 5.18): connects to a service without backends fail with EPERM instead of ECONNREFUSED");
            if (!features.RingBuffer)
                logger.LogWarning("Kernel lacks BPF ring buffers (needs 5.8): the programs run without trace events and 'cgroup-lb trace' cannot show any");
            if (!knobs.SkStorage)
                logger.LogWarning("Kernel lacks bpf_sk_storage_get for sock_addr programs: reverse entries of translated sockets go to the LRU maps {Map} and {Map6} and stay until evicted", MapNames.ReverseSockets, MapNames.ReverseSockets6);
            else if (!knobs.RdonlyCast)
                logger.LogInformation("Kernel lacks the bpf_rdonly_cast kfunc (needs 6.2): recvmsg, getpeername and accept of sockets the LB never translated ask socket storage through a helper call, about 30 ns more each, " +
                    "and connected sockets (TCP, connected UDP) keep their reverse entries in socket storage, not in {Map}", MapNames.SocketClaims);
            else if (!knobs.Claims && options.SocketClaimSlots > 0)
                logger.LogWarning("The verifier refused the TCP claims in {Map}; the programs load without them: " +
                    "connected sockets (TCP, connected UDP) keep their reverse entries in socket storage, about 700 ns more per connect", MapNames.SocketClaims);
            uint claimSlots = SocketClaimSlots(options, knobs);
            if (claimSlots > 0)
                logger.LogInformation("Connected sockets (TCP, connected UDP) keep their reverse entries in {Map} and {Map6} ({Slots} entries each, {Size} of kernel memory together); socket storage only where a live socket holds the entry",
                    MapNames.SocketClaims, MapNames.SocketClaims6, claimSlots, LbMapPreallocation.Megabytes(SocketClaimBytes(claimSlots)));
            features = features with { SetRetval = knobs.SetRetval, SocketStorage = knobs.SkStorage, RdonlyCast = knobs.RdonlyCast, SocketClaims = claimSlots > 0 };
            CheckLayouts(bpfObject);
            var created = MapNames.All.Where(n => !preexistingMaps.Contains(n)).ToHashSet();
            if (options.PreallocateLbMaps && pinMaps)
            {
                logger.LogInformation("Service and name maps preallocated (--preallocate-bpf-maps): about {Size} of kernel memory, {State}",
                    LbMapPreallocation.Megabytes(preallocatedBytes), DatapathOptions.PreallocatedMapNames.Any(created.Contains) ? "allocated now" : "adopted as pinned");
            }
            var loaded = new LoadedObject(bpfObject, features, created, options);
            bpfObject = null;
            return loaded;
        }
        catch (Exception ex)
        {
            foreach (var name in MapNames.All.Where(n => !preexistingMaps.Contains(n)))
                TryRun(() => File.Delete(options.MapPinPath(name)));
            if (ex is DatapathException)
                throw;
            if (ex is BpfException { Errno: Errno.ENOMEM })
            {
                string backendArrays = LbMapPreallocation.Megabytes(DatapathOptions.BackendArrayBytes(options.LbMapMax ?? DatapathOptions.DefaultBackendMapMax));
                throw new DatapathException(phase, options.PreallocateLbMaps
                    ? $"{phase} failed: {ex.Message}; --preallocate-bpf-maps asks for about {LbMapPreallocation.Megabytes(preallocatedBytes)} of kernel memory " +
                      $"up front for the service and name maps, and the backend arrays for {backendArrays} more: lower --bpf-lb-map-max, raise the agent's memory limit, or drop the flag"
                    : $"{phase} failed: {ex.Message}; the backend arrays (lb4_backends_v2, lb6_backends_v2) take {backendArrays} of kernel memory at creation: " +
                      "lower --bpf-lb-map-max or raise the agent's memory limit", ex);
            }
            throw new DatapathException(phase, $"{phase} failed: {ex.Message}", ex);
        }
        finally
        {
            bpfObject?.Dispose();
        }
    }

    /// <summary>
    /// The probed knobs of one load attempt. Attempts go from everything on to everything off, switching off first
    /// the knob whose helper is newest, so a kernel gets the most it can verify in at most six loads (6.2+ in one,
    /// 5.18-6.1 in one, 5.10 in two). <see cref="RdonlyCast"/> only serves socket storage, so it is never tried
    /// without it, nor in the object for kernels without it, which has no kfunc call for it to guard.
    /// <see cref="Claims"/> (TCP entries in lb4_sk_claim) needs <see cref="RdonlyCast"/> and goes first, so a verifier
    /// that refuses the claim code (its atomic instructions, a socket's address stored in a map) keeps the kfunc.
    /// </summary>
    private sealed record LoadKnobs(bool SetRetval, bool SkStorage, bool RdonlyCast, bool Claims = false)
    {
        private static readonly LoadKnobs[] Order =
            [new(true, true, true, true), new(true, true, true), new(true, true, false), new(false, true, false), new(true, false, false), new(false, false, false)];

        public static LoadKnobs First(bool kernelBtfObject) => kernelBtfObject ? Order[0] : Order[2];

        public LoadKnobs? Next()
        {
            int i = Array.IndexOf(Order, this);
            return i + 1 < Order.Length ? Order[i + 1] : null;
        }
    }

    /// <summary>
    /// lb4_sk_claim's entries where the programs claim (the kfunc knob on, <see cref="DatapathOptions.SocketClaimSlots"/>
    /// not 0), else 0.
    /// </summary>
    private static uint SocketClaimSlots(DatapathOptions options, LoadKnobs knobs) => knobs.Claims ? options.SocketClaimSlots : 0;

    /// <summary>The kernel memory of lb4_sk_claim and lb6_sk_claim at <paramref name="slots"/> entries each.</summary>
    internal static ulong SocketClaimBytes(uint slots) => (ulong)slots * (ulong)(Marshal.SizeOf<Lb4SkClaim>() + Marshal.SizeOf<Lb6SkClaim>());

    private static BpfObject OpenConfigureLoad(byte[] elf, DatapathOptions options, LoadKnobs knobs, bool kernelBtfObject, bool pinMaps, bool ringBuffer, ref string phase, ref ulong preallocatedBytes)
    {
        phase = "open";
        var bpfObject = BpfObject.OpenMemory(elf, "cgroup_lb");
        try
        {
            phase = "configure";
            Configure(bpfObject, options, knobs, ringBuffer, HostNetnsCookie(options));
            // Sized by the object, not the knob, so every load attempt on one kernel asks for the same map: a map pinned
            // by an earlier run is reused, never refused for its size. One entry where nothing can claim.
            uint claimMapEntries = kernelBtfObject && options.SocketClaimSlots > 0 ? options.SocketClaimSlots : 1;
            bpfObject.GetMap(MapNames.SocketClaims).SetMaxEntries(claimMapEntries);
            bpfObject.GetMap(MapNames.SocketClaims6).SetMaxEntries(claimMapEntries);
            if (!ringBuffer)
            {
                // have_ringbuf = 0 prunes every instruction that uses the ring, but the map itself is still created:
                // a one-element array stands in, and `cgroup-lb trace` reads its type to say tracing is unavailable.
                bpfObject.GetMap(MapNames.TraceEvents).SetShape(BpfMapType.Array, sizeof(uint), sizeof(uint), 1);
            }
            if (options.LbMapMax is { } lbMapMax)
            {
                foreach (var name in DatapathOptions.LbMapNames)
                    bpfObject.GetMap(name).SetMaxEntries(lbMapMax);
            }
            if (options.PreallocateLbMaps)
            {
                preallocatedBytes = 0;
                foreach (var name in DatapathOptions.PreallocatedMapNames)
                {
                    var map = bpfObject.GetMap(name);
                    map.SetMapFlags(map.MapFlags & ~NoPreallocFlag);
                    preallocatedBytes += LbMapPreallocation.BytesOf(map.KeySize, map.ValueSize, map.MaxEntries);
                }
            }
            foreach (var name in pinMaps ? MapNames.All : [])
            {
                var map = bpfObject.GetMap(name);
                PinnedMaps.CheckCompatible(options, map);
                map.SetPinPath(options.MapPinPath(name));
            }
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

    /// <summary>
    /// The host namespace's cookie for <c>host_netns_cookie</c>: the configured one, else the loading thread's namespace
    /// (the agent's), else 0, which makes the programs take init_net (kernels before 5.14 cannot tell user space).
    /// </summary>
    private static ulong HostNetnsCookie(DatapathOptions options) =>
        options.HostNetnsCookie ?? NetworkNamespace.CurrentThreadCookie() ?? 0;

    /// <summary>Sets the read-only config (.rodata) between open and load, so the verifier prunes disabled branches.</summary>
    private static void Configure(BpfObject bpfObject, DatapathOptions options, LoadKnobs knobs, bool ringBuffer, ulong hostNetnsCookie)
    {
        var rodata = bpfObject.Maps.FirstOrDefault(m => m.Name.EndsWith(".rodata", StringComparison.Ordinal))
            ?? throw new DatapathException("configure", "the BPF object has no .rodata section for its configuration");
        var bytes = rodata.GetInitialValue();
        int size = Marshal.SizeOf<LbDatapathConfig>();
        if (bytes.Length < size)
            throw new DatapathException("configure", $".rodata is {bytes.Length} bytes, smaller than struct lb_datapath_config ({size})");
        var config = MemoryMarshal.Read<LbDatapathConfig>(bytes);
        config.HaveSetRetval = knobs.SetRetval ? 1u : 0u;
        config.HaveSkStorage = knobs.SkStorage ? 1u : 0u;
        config.HaveRdonlyCast = knobs.RdonlyCast ? 1u : 0u;
        config.SkClaimSlots = SocketClaimSlots(options, knobs);
        config.HaveRingbuf = ringBuffer ? 1u : 0u;
        config.HostNetnsCookie = hostNetnsCookie;
        config.EnableSocketLbHostOnly = options.HostNamespaceOnly ? 1u : 0u;
        config.EnableNetnsExclusion = options.NetnsExclusion ? 1u : 0u;
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
        Check<int, Lb4SkFrontend>(MapNames.SocketFrontends);
        Check<uint, Lb4SkClaim>(MapNames.SocketClaims);
        Check<uint, Lb6SkClaim>(MapNames.SocketClaims6);
        Check<uint, LbServiceStats>(MapNames.ServiceStats);
        Check<uint, LbServiceName>(MapNames.ServiceNames);
        Check<uint, ulong>(MapNames.FrontendFilter);
        Check<uint, ulong>(MapNames.FrontendFilter6);
        Check<Lb4ServiceKey, Lb4Refused>(MapNames.Refused);
        Check<Lb6ServiceKey, Lb6ServiceValue>(MapNames.Services6);
        Check<uint, Lb6Backend>(MapNames.Backends6);
        Check<Lb6ReverseSkKey, Lb6ReverseSkValue>(MapNames.ReverseSockets6);
        Check<int, Lb6SkFrontend>(MapNames.SocketFrontends6);
        Check<Lb6ServiceKey, Lb4Refused>(MapNames.Refused6);
        Check<uint, LbTraceControl>(MapNames.TraceControl);
        Check<LbAffinityKey, LbAffinityValue>(MapNames.Affinity);
        Check<ulong, LbSkipNetnsValue>(MapNames.SkipNetns);
        Check<uint, uint>(MapNames.ServiceGenerations);
        Check<uint, LbNodeAddress>(MapNames.NodeAddresses);
        Check<Lb6Address, LbNodeAddress>(MapNames.NodeAddresses6);
    }

    internal static void TryRun(Action action)
    {
        try { action(); }
        catch (Exception) { /* best effort while unwinding a failed load; the original error is what matters */ }
    }
}

/// <summary>
/// A loaded, not yet attached object (<see cref="ObjectLoader.Load"/>): owns it until Dispose. <see cref="CreatedMaps"/>
/// are the maps this load created and pinned (new names, e.g. after an ABI change).
/// </summary>
internal sealed class LoadedObject(BpfObject bpfObject, DatapathFeatures features, IReadOnlySet<string> createdMaps, DatapathOptions options) : IDisposable
{
    public BpfObject Object => bpfObject;
    public DatapathFeatures Features => features;
    public IReadOnlySet<string> CreatedMaps => createdMaps;

    /// <summary>Undoes the pins of <see cref="CreatedMaps"/> (a failed attach or adoption).</summary>
    public void RemoveCreatedMapPins()
    {
        foreach (var name in createdMaps)
            ObjectLoader.TryRun(() => File.Delete(options.MapPinPath(name)));
    }

    public void Dispose() => bpfObject.Dispose();
}
