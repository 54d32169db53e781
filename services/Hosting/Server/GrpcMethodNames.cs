namespace Microservices.Hosting.Server;

/// <summary>
/// How configuration names a gRPC method. A full name (<c>/microservices.export.v1.ExportService/StartExport</c>)
/// cannot be a configuration key everywhere: '/' is not allowed in a Kubernetes environment variable's
/// name. So per-method settings are keyed <c>ExportService.StartExport</c> (the service's name without
/// its package, a dot, the method), which binds from JSON and from <c>…__ExportService.StartExport__…</c>
/// alike; <c>ExportService/StartExport</c> and the full name are accepted too (JSON only).
/// </summary>
public static class GrpcMethodNames
{
    /// <summary>"/pkg.Service/Method" (ServerCallContext.Method) or any accepted configuration form → "Service.Method".</summary>
    public static string Key(string method)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        var name = method.TrimStart('/');
        var slash = name.LastIndexOf('/');
        var (service, rpc) = slash >= 0
            ? (name[..slash], name[(slash + 1)..])
            : (name[..Math.Max(name.LastIndexOf('.'), 0)], name[(name.LastIndexOf('.') + 1)..]);
        var unqualified = service[(service.LastIndexOf('.') + 1)..];
        if (unqualified.Length == 0 || rpc.Length == 0)
        {
            throw new ArgumentException($"'{method}' does not name a gRPC method: write Service.Method, e.g. ExportService.StartExport", nameof(method));
        }

        return unqualified + "." + rpc;
    }

    /// <summary>The method alone ("/pkg.Service/Method" → "Method"), for messages a person reads.</summary>
    public static string Short(string method) => method[(method.LastIndexOf('/') + 1)..];

    /// <summary>A per-method settings map re-keyed by <see cref="Key"/>, so lookups by ServerCallContext.Method find it.</summary>
    public static IReadOnlyDictionary<string, T> ByKey<T>(IEnumerable<KeyValuePair<string, T>> configured, string section)
    {
        var byKey = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var (name, value) in configured)
        {
            string key;
            try
            {
                key = Key(name);
            }
            catch (ArgumentException error)
            {
                throw new InvalidOperationException($"Configuration {section}:{name}: {error.Message}", error);
            }

            if (!byKey.TryAdd(key, value))
            {
                throw new InvalidOperationException($"Configuration {section} names {key} twice.");
            }
        }

        return byKey;
    }
}
