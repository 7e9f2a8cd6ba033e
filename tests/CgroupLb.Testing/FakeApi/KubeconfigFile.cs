namespace CgroupLb.Testing.FakeApi;

/// <summary>
/// A kubeconfig file in a temporary directory of its own pointing at one API server with a bearer token, the way
/// an operator hands one to the agent with --kubeconfig. Disposing deletes the directory.
/// </summary>
public sealed class KubeconfigFile : IDisposable
{
    private readonly DirectoryInfo directory;

    private KubeconfigFile(DirectoryInfo directory, string path)
    {
        this.directory = directory;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Writes a kubeconfig whose current context reaches <paramref name="server"/> as a user with <paramref name="token"/>.</summary>
    public static KubeconfigFile Write(string server, string token = "test-token-123")
    {
        var directory = Directory.CreateTempSubdirectory("cglb-kubeconfig-");
        var path = System.IO.Path.Combine(directory.FullName, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {server}
            users:
            - name: agent
              user:
                token: {token}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: agent
            current-context: fake
            """);
        return new KubeconfigFile(directory, path);
    }

    public void Dispose()
    {
        if (directory.Exists)
            directory.Delete(recursive: true);
    }
}
