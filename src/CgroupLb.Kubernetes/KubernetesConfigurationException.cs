namespace CgroupLb.Kubernetes;

/// <summary>
/// No usable connection settings for the API server: the kubeconfig named on the command line could not be read, or
/// none was named and the process is not running inside a cluster. The message says which and why.
/// </summary>
public sealed class KubernetesConfigurationException : Exception
{
    public KubernetesConfigurationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
