namespace CgroupLb.Datapath.Loading;

/// <summary>
/// The data path cannot be set up. <see cref="Exception.Message"/> is one line saying what is wrong and what to do;
/// <see cref="Phase"/> names the loader phase (preflight, open, load, attach, adopt, detach).
/// </summary>
public sealed class DatapathException(string phase, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Phase { get; } = phase;
}
