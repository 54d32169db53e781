using Microservices.Registry.Models;
using V1 = Microservices.Registry.V1;

namespace Microservices.Registry.Tests;

/// <summary>The mappings services/Registry/README.md promises the gRPC handler.</summary>
public sealed class ContractShapeTests
{
    [Fact]
    public void Proto_enums_are_the_domain_enums_shifted_by_the_unspecified_slot()
    {
        Assert.Equal(
            Enum.GetValues<SourceType>().Select(v => (int)v + 1),
            Enum.GetValues<V1.SourceType>().Where(v => v != V1.SourceType.Unspecified).Select(v => (int)v));
        Assert.Equal((int)V1.SourceType.Huggingface - 1, (int)SourceType.HuggingFace);
        Assert.Equal((int)V1.SourceType.CortexSo - 1, (int)SourceType.CortexSo);
        Assert.Equal((int)V1.SourceType.Local - 1, (int)SourceType.Local);
        Assert.Equal((int)V1.ModelStatus.Ready - 1, (int)ModelStatus.Ready);
        Assert.Equal((int)V1.ModelStatus.Running - 1, (int)ModelStatus.Running);
        Assert.Equal((int)V1.ImportMode.AllOrNothing - 1, (int)Import.ImportMode.AllOrNothing);
    }

    [Fact]
    public void Error_kinds_carry_the_grpc_status_codes()
    {
        // https://grpc.github.io/grpc/core/md_doc_statuscodes.html
        Assert.Equal(3, (int)RegistryErrorKind.InvalidArgument);
        Assert.Equal(5, (int)RegistryErrorKind.NotFound);
        Assert.Equal(6, (int)RegistryErrorKind.AlreadyExists);
        Assert.Equal(8, (int)RegistryErrorKind.ResourceExhausted);
        Assert.Equal(9, (int)RegistryErrorKind.FailedPrecondition);
        Assert.Equal(10, (int)RegistryErrorKind.Aborted);
    }

    [Fact]
    public void Update_mask_paths_are_fields_of_the_proto_model()
    {
        var fields = V1.Model.Descriptor.Fields.InDeclarationOrder().Select(f => f.Name).ToHashSet();
        Assert.All(ModelPatch.Paths, path => Assert.Contains(path, fields));
    }
}
