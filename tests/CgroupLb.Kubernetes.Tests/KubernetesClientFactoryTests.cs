namespace CgroupLb.Kubernetes.Tests;

public sealed class KubernetesClientFactoryTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("cglb-factory-");

    [Fact]
    public void AKubeconfigFileGivesItsServerAndToken()
    {
        var path = Write("""
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster:
                server: http://127.0.0.1:6443
            users:
            - name: u
              user:
                token: abc
            contexts:
            - name: ctx
              context:
                cluster: c
                user: u
            current-context: ctx
            """);

        var config = KubernetesClientFactory.CreateConfiguration(path);

        Assert.Equal("http://127.0.0.1:6443", config.Host);
        Assert.Equal("abc", config.AccessToken);
    }

    [Fact]
    public void AMissingKubeconfigIsNamedInTheError()
    {
        var path = Path.Combine(directory.FullName, "absent");
        var error = Assert.Throws<KubernetesConfigurationException>(() => KubernetesClientFactory.CreateConfiguration(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("not found", error.Message);
    }

    [Fact]
    public void AnUnusableKubeconfigIsNamedInTheError()
    {
        var path = Write("apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n");
        var error = Assert.Throws<KubernetesConfigurationException>(() => KubernetesClientFactory.CreateConfiguration(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void NoKubeconfigOutsideAClusterSaysWhatToPass()
    {
        var error = Assert.Throws<KubernetesConfigurationException>(
            () => KubernetesClientFactory.CreateConfiguration(null, null, isInCluster: () => false));
        Assert.Contains("not running in a cluster", error.Message);
        Assert.Contains("--kubeconfig", error.Message);
    }

    [Fact]
    public void AContextWithoutAKubeconfigIsRejected()
    {
        var error = Assert.Throws<KubernetesConfigurationException>(
            () => KubernetesClientFactory.CreateConfiguration(null, "ctx", isInCluster: () => true));
        Assert.Contains("ctx", error.Message);
    }

    public void Dispose() => directory.Delete(recursive: true);

    private string Write(string content)
    {
        var path = Path.Combine(directory.FullName, $"kubeconfig-{Guid.NewGuid():N}");
        File.WriteAllText(path, content);
        return path;
    }
}
