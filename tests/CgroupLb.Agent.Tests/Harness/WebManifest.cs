using System.Net;
using System.Text;
using CgroupLb.Testing;
using k8s.Models;

namespace CgroupLb.Agent.Tests.Harness;

/// <summary>
/// The YAML an operator would write for one TCP ClusterIP Service and its EndpointSlice (namespace default, port 80
/// to the backends' <paramref name="TargetPort"/>), with the endpoints given. <see cref="SliceName"/> names the slice.
/// </summary>
public sealed record WebManifest(string Name, IPAddress ClusterIp, IReadOnlyList<IPAddress> Endpoints, ushort TargetPort)
{
    public const ushort Port = 80;

    public string SliceName => Name + "-slice";

    /// <summary>From 198.51.100.0/24 (TEST-NET-2): routed nowhere, so only a translation makes it reachable.</summary>
    public static IPAddress Vip(int host) => IPAddress.Parse($"198.51.100.{host}");

    public IPEndPoint Frontend => new(ClusterIp, Port);

    public string ToYaml() => ToYaml(Endpoints.Select(e => e.ToString()));

    /// <summary>The Service as the API server holds it, for the fake API server.</summary>
    public V1Service ApiService() => KubeObjects.HttpService("default", Name, Port, ClusterIp.ToString(), TargetPort);

    /// <summary>The EndpointSlice as the API server holds it: every endpoint ready.</summary>
    public V1EndpointSlice ApiEndpointSlice() =>
        KubeObjects.ReadySlice("default", Name, SliceName, TargetPort, [.. Endpoints.Select(e => e.ToString())]);

    /// <summary>The same documents with endpoint addresses as given, valid or not (to write a bad document).</summary>
    public string ToYaml(IEnumerable<string> endpointAddresses)
    {
        var yaml = new StringBuilder($"""
            apiVersion: v1
            kind: Service
            metadata:
              name: {Name}
              namespace: default
            spec:
              type: ClusterIP
              clusterIP: {ClusterIp}
              clusterIPs: [{ClusterIp}]
              ports:
                - name: http
                  protocol: TCP
                  port: {Port}
                  targetPort: {TargetPort}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: {SliceName}
              namespace: default
              labels:
                kubernetes.io/service-name: {Name}
            addressType: IPv4
            ports:
              - name: http
                protocol: TCP
                port: {TargetPort}
            endpoints:

            """);
        foreach (string address in endpointAddresses)
        {
            yaml.Append($"""
                  - addresses: ["{address}"]
                    conditions:
                      ready: true

                """);
        }
        return yaml.ToString();
    }

    /// <summary>Writes the manifest atomically, so the agent never reads half a file.</summary>
    public void WriteTo(string path) => WriteText(path, ToYaml());

    /// <summary>Writes next to the manifest directory, then renames into it: the agent sees the old or the new file.</summary>
    public static void WriteText(string path, string text)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temporary = Path.Combine(Path.GetDirectoryName(directory)!, $".{Path.GetFileName(directory)}-{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
