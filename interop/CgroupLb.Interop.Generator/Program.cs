using CgroupLb.Interop.Generator;

try
{
    var options = GeneratorOptions.Parse(args);
    var written = BindingGenerator.GenerateInto(options);
    Console.WriteLine($"generated {written.Count} files into {options.OutputDirectory}");
    return 0;
}
catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
{
    Console.Error.WriteLine($"libbpf binding generator: {ex.Message}");
    return 1;
}
