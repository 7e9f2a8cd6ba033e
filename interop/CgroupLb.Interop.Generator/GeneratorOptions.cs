namespace CgroupLb.Interop.Generator;

/// <param name="OutputDirectory">Where the .cs files go; stale generated files there are deleted.</param>
/// <param name="FunctionsFile">interop/libbpf-functions.txt</param>
/// <param name="TypesFile">interop/libbpf-types.txt</param>
/// <param name="Clang">clang executable.</param>
/// <param name="HeaderDirectory">
/// The vendored libbpf headers (interop/vendor/libbpf): <c>include/</c> holds libbpf's <c>bpf/*.h</c>,
/// <c>include/uapi/</c> the kernel's <c>linux/bpf.h</c>. Both are searched before the system's, so the bindings do
/// not depend on the libbpf-dev or linux-libc-dev installed on the host.
/// </param>
/// <param name="ExtraClangArguments">e.g. -I/usr/include/x86_64-linux-gnu when the multiarch dir is not found by default.</param>
public sealed record GeneratorOptions(
    string OutputDirectory,
    string FunctionsFile,
    string TypesFile,
    string Clang,
    string HeaderDirectory,
    IReadOnlyList<string> ExtraClangArguments)
{
    public static readonly string[] Headers = ["bpf/libbpf.h", "bpf/bpf.h"];

    /// <summary>The include directories under <see cref="HeaderDirectory"/>, in search order.</summary>
    public IReadOnlyList<string> IncludeDirectories =>
        [Path.GetFullPath(Path.Combine(HeaderDirectory, "include")), Path.GetFullPath(Path.Combine(HeaderDirectory, "include", "uapi"))];

    public static GeneratorOptions Parse(IReadOnlyList<string> args)
    {
        string? output = null;
        var functions = Path.Combine("interop", "libbpf-functions.txt");
        var types = Path.Combine("interop", "libbpf-types.txt");
        var clang = "clang";
        var headers = Path.Combine("interop", "vendor", "libbpf");
        var extra = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--out": output = Value(); break;
                case "--functions": functions = Value(); break;
                case "--types": types = Value(); break;
                case "--clang": clang = Value(); break;
                case "--headers": headers = Value(); break;
                case "--clang-arg": extra.Add(Value()); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }

        return new GeneratorOptions(
            output ?? throw new ArgumentException("--out <directory> is required"),
            functions,
            types,
            clang,
            headers,
            extra);
    }
}
