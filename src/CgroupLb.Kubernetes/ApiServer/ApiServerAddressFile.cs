using System.Net;
using System.Text.Json;
using k8s.Models;

namespace CgroupLb.Kubernetes.ApiServer;

/// <summary>
/// The API server's own addresses as last seen in the `kubernetes` EndpointSlice (namespace default), kept in a small
/// JSON file under the agent's state directory so a restarted agent can reach the API server without the Service
/// it would have to translate itself. Written whole to a temporary file and renamed, so a reader never sees half a
/// file; an unreadable file counts as empty (the fallback is a second chance, never a reason not to start).
/// Never under bpffs: that directory holds only BPF objects.
/// </summary>
public sealed class ApiServerAddressFile
{
    public const string FileName = "apiserver-endpoints.json";
    public const string ServiceNamespace = "default";
    public const string ServiceName = "kubernetes";

    private readonly Lock gate = new();
    private IReadOnlyList<IPEndPoint> saved;

    public ApiServerAddressFile(string stateDirectory)
    {
        Path = System.IO.Path.Combine(stateDirectory, FileName);
        saved = Read(Path);
    }

    public string Path { get; }

    /// <summary>The addresses saved now (read from the file at construction, then as last written).</summary>
    public IReadOnlyList<IPEndPoint> Addresses
    {
        get { lock (gate) return saved; }
    }

    /// <summary>True for an EndpointSlice of the `kubernetes` Service in namespace default.</summary>
    public static bool IsApiServerSlice(V1EndpointSlice? slice) =>
        slice?.Metadata is { NamespaceProperty: ServiceNamespace } metadata
        && metadata.Labels?.TryGetValue("kubernetes.io/service-name", out var service) == true && service == ServiceName;

    /// <summary>
    /// The slice's ready addresses with its https port (the only port the kubernetes Service has; a slice with several
    /// ports contributes the one named https, else the first). Empty when nothing in it is usable.
    /// </summary>
    public static IReadOnlyList<IPEndPoint> AddressesOf(V1EndpointSlice slice)
    {
        var port = slice.Ports?.FirstOrDefault(p => p.Name == "https") ?? slice.Ports?.FirstOrDefault();
        if (port?.Port is not { } number || number is < 1 or > 65535)
            return [];
        return [.. (slice.Endpoints ?? [])
            .Where(e => e.Conditions?.Ready != false)
            .SelectMany(e => e.Addresses ?? [])
            .Select(a => IPAddress.TryParse(a, out var ip) ? new IPEndPoint(ip, number) : null)
            .OfType<IPEndPoint>()
            .Distinct()];
    }

    /// <summary>
    /// Saves <paramref name="addresses"/> when they differ from what is saved; an empty list keeps the last good one
    /// (an API server briefly without ready endpoints is no reason to forget where it was). Returns true when written.
    /// </summary>
    public bool Save(IReadOnlyList<IPEndPoint> addresses)
    {
        if (addresses.Count == 0)
            return false;
        lock (gate)
        {
            if (saved.SequenceEqual(addresses))
                return false;
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            string temporary = $"{Path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(new SavedAddresses([.. addresses.Select(a => a.ToString())])));
            File.Move(temporary, Path, overwrite: true);
            saved = addresses;
            return true;
        }
    }

    private static IReadOnlyList<IPEndPoint> Read(string path)
    {
        try
        {
            if (!File.Exists(path))
                return [];
            var stored = JsonSerializer.Deserialize<SavedAddresses>(File.ReadAllText(path));
            return [.. (stored?.Addresses ?? []).Select(a => IPEndPoint.TryParse(a, out var endPoint) ? endPoint : null).OfType<IPEndPoint>()];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return [];
        }
    }

    private sealed record SavedAddresses(IReadOnlyList<string> Addresses);
}
