namespace CgroupLb.TestPeer;

/// <summary>The command line is wrong; the message names the option and the reason.</summary>
public sealed class PeerUsageException(string message) : Exception(message);
