using Google.Protobuf.WellKnownTypes;
using Microservices.Registry.Changes;
using Microservices.Registry.Import;
using Microservices.Registry.Models;
using V1 = Microservices.Registry.V1;

namespace Microservices.Registry.Grpc;

/// <summary>
/// Proto ↔ domain. The domain never sees wire messages. Enum values are checked here, against
/// the proto's names, so an unknown or missing value is refused naming the field and the values
/// it accepts in the caller's terms (SOURCE_TYPE_…), not the domain's.
/// </summary>
internal static class ModelMapping
{
    public static V1.Model ToProto(this RegisteredModel model)
    {
        var proto = new V1.Model
        {
            Owner = model.Owner,
            ModelId = model.ModelId,
            SourceType = (V1.SourceType)((int)model.SourceType + 1),
            AuthorRepo = model.AuthorRepo,
            Branch = model.Branch,
            ConfigPath = model.ConfigPath,
            Alias = model.Alias ?? "",
            Status = (V1.ModelStatus)((int)model.Status + 1),
            Version = model.Version,
            CreatedAt = Timestamp.FromDateTimeOffset(model.CreatedAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(model.UpdatedAt),
        };
        foreach (var (key, value) in model.Tags)
        {
            proto.Tags[key] = value;
        }

        return proto;
    }

    public static NewModel ToDomain(this V1.RegisterModelRequest request) =>
        NewModel(request.Owner, request.ModelId, request.SourceType, request.AuthorRepo, request.Branch, request.ConfigPath, request.Alias, request.Status, request.Tags);

    public static ModelQuery ToDomain(this V1.ListModelsRequest request) => new()
    {
        SourceType = Optional(request.SourceType, "source_type"),
        Status = Optional(request.Status, "status"),
        AuthorRepo = request.AuthorRepo.Length == 0 ? null : request.AuthorRepo,
        Prefix = request.Prefix.Length == 0 ? null : request.Prefix,
        TagKey = request.Tag is { Key.Length: > 0 } tag ? tag.Key : null,
        TagValue = request.Tag is { Key.Length: > 0, Value.Length: > 0 } withValue ? withValue.Value : null,
        OrderBy = request.OrderBy switch
        {
            V1.ModelOrder.Unspecified or V1.ModelOrder.ModelId => ModelOrder.ModelId,
            V1.ModelOrder.CreatedAt => ModelOrder.CreatedAt,
            V1.ModelOrder.UpdatedAt => ModelOrder.UpdatedAt,
            _ => throw Unknown("order_by", (int)request.OrderBy, Names<V1.ModelOrder>()),
        },
        Descending = request.Descending,
        PageSize = request.PageSize,
        PageToken = request.PageToken.Length == 0 ? null : request.PageToken,
        IncludeTotalCount = request.IncludeTotalCount,
    };

    public static V1.ListModelsResponse ToProto(this ModelPage page)
    {
        var response = new V1.ListModelsResponse { NextPageToken = page.NextPageToken ?? "", TotalCount = page.TotalCount ?? 0 };
        response.Models.AddRange(page.Models.Select(m => m.ToProto()));
        return response;
    }

    /// <summary>
    /// One model of an ImportModels message, at <paramref name="index"/> in the call; owner and
    /// version are not read (the call's owner wins; imports start at version 1). A refusal names
    /// models[index], the field and the model id.
    /// </summary>
    public static ModelToImport ToImport(this V1.Model model, int index)
    {
        try
        {
            return new ModelToImport(
                NewModel("", model.ModelId, model.SourceType, model.AuthorRepo, model.Branch, model.ConfigPath, model.Alias, model.Status, model.Tags),
                Time(model.CreatedAt, "created_at"),
                Time(model.UpdatedAt, "updated_at"));
        }
        catch (RegistryException e) when (e.Field is not null)
        {
            throw e.ForModel(index, model.ModelId);
        }
    }

    public static V1.ImportModelsResponse ToProto(this ModelImportReport report)
    {
        var response = new V1.ImportModelsResponse
        {
            Committed = report.Committed,
            Imported = report.Imported,
            Unchanged = report.Unchanged,
            ConflictCount = report.ConflictCount,
        };
        response.Conflicts.AddRange(report.Conflicts.Select(c => new V1.ImportConflict
        {
            ModelId = c.ModelId,
            Alias = c.Alias ?? "",
            Kind = c.Kind == ModelConflictKind.ModelExists ? V1.ConflictKind.ModelExists : V1.ConflictKind.AliasTaken,
            Message = c.Message,
        }));
        return response;
    }

    /// <summary>The fields named in update_mask, taken from request.model; any other path is refused by name.</summary>
    public static ModelPatch ToPatch(this V1.UpdateModelRequest request)
    {
        var source = request.Model ?? new V1.Model();
        var patch = new ModelPatch();
        foreach (var path in request.UpdateMask?.Paths ?? [])
        {
            patch = path switch
            {
                "source_type" => patch with { SourceType = Required(source.SourceType, "model.source_type") },
                "author_repo" => patch with { AuthorRepo = source.AuthorRepo },
                "branch" => patch with { Branch = source.Branch },
                "config_path" => patch with { ConfigPath = source.ConfigPath },
                "alias" => patch with { Alias = source.Alias },
                "tags" => patch with { Tags = new Dictionary<string, string>(source.Tags) },
                _ => throw RegistryException.InvalidArgument(
                    "update_mask", $"path '{path}' can't be updated; allowed paths: {string.Join(", ", ModelPatch.Paths.Order(StringComparer.Ordinal))} (status: use SetStatus)"),
            };
        }

        return patch;
    }

    public static Models.ModelStatus ToDomain(this V1.ModelStatus status, string field) => Required(status, field);

    public static ImportMode ToDomain(this V1.ImportMode mode) => mode switch
    {
        V1.ImportMode.Unspecified or V1.ImportMode.BestEffort => ImportMode.BestEffort,
        V1.ImportMode.AllOrNothing => ImportMode.AllOrNothing,
        _ => throw Unknown("mode", (int)mode, Names<V1.ImportMode>()),
    };

    public static V1.ImportModelListResponse ToProto(this ImportReport report)
    {
        var response = new V1.ImportModelListResponse
        {
            Committed = report.Committed,
            Imported = report.Imported,
            Unchanged = report.Unchanged,
            BlankLines = report.BlankLines,
        };
        response.Errors.AddRange(report.Errors.Select(e => new V1.ImportLineError { LineNumber = e.LineNumber, Reason = e.Reason }));
        return response;
    }

    public static V1.ModelChange ToProto(this ModelChange change) => new()
    {
        Kind = change.Kind switch
        {
            ModelChangeKind.Created => V1.ChangeKind.Created,
            ModelChangeKind.Updated => V1.ChangeKind.Updated,
            _ => V1.ChangeKind.Deleted,
        },
        ModelId = change.ModelId,
        Model = change.Model.ToProto(),
        CommittedAt = Timestamp.FromDateTimeOffset(change.CommittedAt),
    };

    // Register's reading of a model's fields, whichever message carries them: an empty alias asks
    // for a generated one, UNSPECIFIED status means READY, source_type is required.
    private static NewModel NewModel(
        string owner, string modelId, V1.SourceType sourceType, string authorRepo, string branch, string configPath, string alias, V1.ModelStatus status, IDictionary<string, string> tags) => new()
    {
        Owner = owner,
        ModelId = modelId,
        SourceType = Required(sourceType, "source_type"),
        AuthorRepo = authorRepo,
        Branch = branch,
        ConfigPath = configPath,
        Alias = alias.Length == 0 ? null : alias,
        Status = Optional(status, "status") ?? Models.ModelStatus.Ready,
        Tags = new Dictionary<string, string>(tags),
    };

    private static DateTimeOffset? Time(Timestamp? time, string field)
    {
        if (time is null)
        {
            return null;
        }

        try
        {
            return time.ToDateTimeOffset();
        }
        catch (InvalidOperationException)
        {
            throw RegistryException.InvalidArgument(field, $"is not a valid timestamp (seconds {time.Seconds}, nanos {time.Nanos}): it must lie in 0001-01-01..9999-12-31 UTC with nanos 0..999999999");
        }
    }

    private static Models.SourceType Required(V1.SourceType value, string field) =>
        Optional(value, field) ?? throw RegistryException.InvalidArgument(field, $"is required: one of {Names<V1.SourceType>()}");

    private static Models.ModelStatus Required(V1.ModelStatus value, string field) =>
        Optional(value, field) ?? throw RegistryException.InvalidArgument(field, $"is required: one of {Names<V1.ModelStatus>()}");

    // UNSPECIFIED → null ("default" / "no filter"); proto value − 1 is the domain value.
    private static Models.SourceType? Optional(V1.SourceType value, string field) => value switch
    {
        V1.SourceType.Unspecified => null,
        _ when System.Enum.IsDefined(value) => (Models.SourceType)((int)value - 1),
        _ => throw Unknown(field, (int)value, Names<V1.SourceType>()),
    };

    private static Models.ModelStatus? Optional(V1.ModelStatus value, string field) => value switch
    {
        V1.ModelStatus.Unspecified => null,
        _ when System.Enum.IsDefined(value) => (Models.ModelStatus)((int)value - 1),
        _ => throw Unknown(field, (int)value, Names<V1.ModelStatus>()),
    };

    private static RegistryException Unknown(string field, int value, string names) =>
        RegistryException.InvalidArgument(field, $"unknown value {value}; expected one of {names}");

    // The proto names as written in registry.proto, e.g. SOURCE_TYPE_HUGGINGFACE, without UNSPECIFIED.
    private static string Names<T>()
        where T : struct, System.Enum =>
        string.Join(", ", typeof(T).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(f => f.GetCustomAttributes(typeof(Google.Protobuf.Reflection.OriginalNameAttribute), false).OfType<Google.Protobuf.Reflection.OriginalNameAttribute>().FirstOrDefault()?.Name ?? f.Name)
            .Where(n => !n.EndsWith("_UNSPECIFIED", StringComparison.Ordinal)));
}
