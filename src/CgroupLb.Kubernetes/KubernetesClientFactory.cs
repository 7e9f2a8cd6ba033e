using CgroupLb.Kubernetes.ApiServer;
using k8s;

namespace CgroupLb.Kubernetes;

/// <summary>
/// Builds the API client the agent watches with: from an explicit kubeconfig file, or from the pod's service account
/// when no file is given. There is deliberately no fallback to ~/.kube/config: an agent on a node must never pick up
/// an administrator's personal context by accident.
/// </summary>
public static class KubernetesClientFactory
{
    public static IKubernetes Create(string? kubeconfigPath, string? context = null) =>
        new k8s.Kubernetes(CreateConfiguration(kubeconfigPath, context));

    /// <summary>
    /// A client whose connections go through <paramref name="fallback"/>: the configured host first, then the API
    /// server addresses saved from the `kubernetes` EndpointSlice.
    /// </summary>
    public static IKubernetes Create(string? kubeconfigPath, ApiServerFallbackConnector fallback)
    {
        var configuration = CreateConfiguration(kubeconfigPath);
        configuration.FirstMessageHandlerSetup = fallback.Install;
        return new k8s.Kubernetes(configuration);
    }

    public static KubernetesClientConfiguration CreateConfiguration(string? kubeconfigPath, string? context = null) =>
        CreateConfiguration(kubeconfigPath, context, KubernetesClientConfiguration.IsInCluster);

    /// <summary>In-cluster detection is a parameter so tests can take the "outside a cluster" branch on any machine.</summary>
    internal static KubernetesClientConfiguration CreateConfiguration(
        string? kubeconfigPath, string? context, Func<bool> isInCluster)
    {
        if (!string.IsNullOrWhiteSpace(kubeconfigPath))
        {
            return FromKubeconfig(kubeconfigPath, context);
        }

        if (context is not null)
        {
            throw new KubernetesConfigurationException(
                $"a kubeconfig context ('{context}') was given without a kubeconfig file");
        }

        if (!isInCluster())
        {
            throw new KubernetesConfigurationException(
                "no kubeconfig file was given and this process is not running in a cluster " +
                "(KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset or no service account token under " +
                "/var/run/secrets/kubernetes.io/serviceaccount); pass --kubeconfig <path>");
        }

        try
        {
            return KubernetesClientConfiguration.InClusterConfig();
        }
        catch (Exception e)
        {
            throw new KubernetesConfigurationException($"in-cluster configuration failed: {e.Message}", e);
        }
    }

    private static KubernetesClientConfiguration FromKubeconfig(string path, string? context)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new KubernetesConfigurationException($"kubeconfig '{fullPath}': file not found");
        }

        try
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(fullPath, currentContext: context);
        }
        catch (Exception e)
        {
            throw new KubernetesConfigurationException($"kubeconfig '{fullPath}': {e.Message}", e);
        }
    }
}
