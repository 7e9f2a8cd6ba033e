using System.Globalization;
using CgroupLb.Interop;

namespace CgroupLb.Datapath.Termination;

/// <summary>
/// Reads a UDP socket's lb4_sk_frontend value for the netlink path, where inet_diag cannot (it reports socket storage
/// for TCP only): a socket storage map is looked up by socket fd, so a copy of the fd is borrowed from a process of the
/// cgroup that holds it (/proc/PID/fd -> "socket:[inode]", then pidfd_getfd). The inode table is built on the first
/// question and only then, so a pass without UDP candidates scans nothing.
/// </summary>
internal sealed class SocketOwners(IEnumerable<int> pids, string procPath)
{
    private Dictionary<uint, (int Pid, int Fd)>? byInode;

    /// <summary>The socket's value in <paramref name="storage"/>; null when it has none or no process of the cgroup holds it.</summary>
    public byte[]? ReadStorage(BpfMapHandle storage, uint inode)
    {
        if (inode == 0)
            return null;
        byInode ??= Scan();
        if (!byInode.TryGetValue(inode, out var owner))
            return null;
        using ProcessFileDescriptor? socket = ProcessFileDescriptor.TryCopy(owner.Pid, owner.Fd);
        if (socket is null)
            return null; // closed meanwhile
        var value = new byte[storage.Info.ValueSize];
        return storage.TryLookup(BitConverter.GetBytes(socket.Fd), value) ? value : null;
    }

    private Dictionary<uint, (int, int)> Scan()
    {
        var table = new Dictionary<uint, (int, int)>();
        foreach (int pid in pids.Distinct())
        {
            string[] fds;
            try
            {
                fds = Directory.GetFiles(Path.Combine(procPath, pid.ToString(CultureInfo.InvariantCulture), "fd"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // exited, or not ours to read
            }
            foreach (string fdPath in fds)
            {
                string? target;
                try
                {
                    target = new FileInfo(fdPath).LinkTarget;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    continue;
                }
                if (target is null || !target.StartsWith("socket:[", StringComparison.Ordinal) || !target.EndsWith(']')
                    || !uint.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out uint inode)
                    || !int.TryParse(Path.GetFileName(fdPath), NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
                    continue;
                table.TryAdd(inode, (pid, fd));
            }
        }
        return table;
    }
}
