using System.Text.Json.Serialization;
using Microservices.Registry.Models;

namespace Microservices.Registry.Caching;

/// <summary>The cached form of a model (source-generated, no reflection at runtime).</summary>
[JsonSerializable(typeof(RegisteredModel))]
internal sealed partial class RegistryCacheJson : JsonSerializerContext;
