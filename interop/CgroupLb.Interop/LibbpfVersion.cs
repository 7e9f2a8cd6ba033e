namespace CgroupLb.Interop;

/// <summary>
/// The <c>libbpf.so.1</c> this process loads, against the headers the bindings were generated from
/// (interop/vendor/libbpf). The soname only promises 1.x: a 1.0 library lacks functions and options fields the
/// 1.1 declarations use, and that would otherwise fail at the first call that needs them, far from the cause.
/// </summary>
public static class LibbpfVersion
{
    private static readonly Lazy<Version> s_loaded = new(ReadLoaded);

    /// <summary>The oldest library the bindings can run on: the vendored headers' major.minor.</summary>
    public static Version Required { get; } = new(Interop.Libbpf.HeaderMajorVersion, Interop.Libbpf.HeaderMinorVersion);

    /// <summary>The loaded library's <c>libbpf_major_version()</c>.<c>libbpf_minor_version()</c>.</summary>
    /// <exception cref="NotSupportedException">libbpf.so.1 cannot be loaded.</exception>
    public static Version Loaded => s_loaded.Value;

    /// <summary>
    /// Why <paramref name="found"/> cannot run bindings generated from <paramref name="required"/>, naming both;
    /// null when it can (the same major version, the same or a later minor one).
    /// </summary>
    public static string? Incompatibility(Version found, Version required)
    {
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(required);
        if (found.Major == required.Major && found.Minor >= required.Minor)
        {
            return null;
        }

        return $"{Interop.Libraries.Libbpf} is libbpf {found.Major}.{found.Minor}, but CgroupLb needs libbpf {required.Major}.{required.Minor} "
            + $"or a later {required.Major}.x (its bindings are generated from libbpf {required.Major}.{required.Minor} headers); install a newer libbpf1";
    }

    /// <summary>Throws unless the loaded library can run the bindings; checked once per process, before any object is opened.</summary>
    /// <exception cref="NotSupportedException">The library is missing or older than <see cref="Required"/>.</exception>
    public static void EnsureSupported()
    {
        var problem = Incompatibility(Loaded, Required);
        if (problem is not null)
        {
            throw new NotSupportedException(problem);
        }
    }

    private static Version ReadLoaded()
    {
        try
        {
            return new Version((int)Interop.Libbpf.LibbpfMajorVersion(), (int)Interop.Libbpf.LibbpfMinorVersion());
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new NotSupportedException(
                $"{Interop.Libraries.Libbpf} could not be loaded ({ex.Message}); CgroupLb needs libbpf {Required.Major}.{Required.Minor} or later (apt-get install libbpf1)",
                ex);
        }
    }
}
