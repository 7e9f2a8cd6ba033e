using CgroupLb.Interop.Generator;

namespace CgroupLb.Interop.Tests;

public sealed class GeneratorUnitTests
{
    private static readonly CSharpTypeMapper Mapper = new(
        new Dictionary<string, string> { ["__u32"] = "unsigned int", ["size_t"] = "unsigned long", ["__u64"] = "unsigned long long" },
        new Dictionary<string, string> { ["bpf_map_batch_opts"] = "BpfMapBatchOpts" });

    [Theory]
    [InlineData("int", TypeContext.Parameter, "int")]
    [InlineData("__u32", TypeContext.Parameter, "uint")]
    [InlineData("size_t", TypeContext.Parameter, "nuint")]
    [InlineData("__u32 *", TypeContext.Parameter, "uint*")]
    [InlineData("const void *", TypeContext.Parameter, "void*")]
    [InlineData("const char *", TypeContext.Parameter, "string")]
    [InlineData("const char *", TypeContext.Return, "byte*")]
    [InlineData("char *", TypeContext.Parameter, "byte*")]
    [InlineData("const char **", TypeContext.Parameter, "byte**")]
    [InlineData("struct bpf_object *", TypeContext.Return, "nint")]
    [InlineData("const struct bpf_map *", TypeContext.Parameter, "nint")]
    [InlineData("const struct bpf_map_batch_opts *", TypeContext.Parameter, "BpfMapBatchOpts*")]
    [InlineData("enum bpf_attach_type", TypeContext.Parameter, "int")]
    [InlineData("bool", TypeContext.Parameter, "bool")]
    [InlineData("_Bool", TypeContext.FunctionPointerSlot, "byte")]
    [InlineData("unsigned long long", TypeContext.Field, "ulong")]
    [InlineData("int (*)(enum libbpf_print_level, const char *, struct __va_list_tag *)", TypeContext.Parameter, "delegate* unmanaged<int, byte*, nint, int>")]
    public void MapsCTypesToBlittableCSharp(string cType, TypeContext context, string expected) =>
        Assert.Equal(expected, Mapper.Map(CTypeParser.Parse(cType), context).Spelling);

    [Fact]
    public void RejectsTypesItCannotMirror()
    {
        Assert.Throws<NotSupportedException>(() => Mapper.Map(CTypeParser.Parse("struct bpf_map_info"), TypeContext.Parameter));
        Assert.Throws<NotSupportedException>(() => Mapper.Map(CTypeParser.Parse("__u16"), TypeContext.Parameter));
    }

    [Theory]
    [InlineData("bpf_object__open_file", "BpfObject_OpenFile")]
    [InlineData("bpf_map_update_elem", "BpfMapUpdateElem")]
    [InlineData("libbpf_set_print", "LibbpfSetPrint")]
    [InlineData("bpf_prog_detach2", "BpfProgDetach2")]
    public void NamesMethodsKeepingLibbpfsObjectSeparator(string cName, string expected) => Assert.Equal(expected, Naming.Method(cName));

    [Fact]
    public void FunctionReturnTypeIsEverythingBeforeTheParameterList() =>
        Assert.Equal("libbpf_print_fn_t", CTypeParser.ReturnTypeOfFunction("libbpf_print_fn_t (libbpf_print_fn_t)"));

    [Fact]
    public void RecordLayoutKeepsDirectNamedMembersAndSkipsPaddingBitfields()
    {
        const string dump = """

            *** Dumping AST Record Layout
                     0 | struct bpf_object_open_opts
                     0 |   size_t sz
                     8 |   const char * object_name
                    16 |   _Bool relaxed_maps
               32:0-31 |   __u32 
                    40 |   const char * kconfig
                    48 |   struct inner nested
                    48 |     int deeper
                  56:- |   size_t 
                       | [sizeof=56, align=8]

            """;

        var layout = RecordLayoutParser.Parse(dump)["bpf_object_open_opts"];

        Assert.Equal(56, layout.Size);
        Assert.Equal(8, layout.Alignment);
        Assert.Equal(
            new Dictionary<string, int> { ["sz"] = 0, ["object_name"] = 8, ["relaxed_maps"] = 16, ["kconfig"] = 40, ["nested"] = 48 },
            layout.FieldOffsets);
    }
}
