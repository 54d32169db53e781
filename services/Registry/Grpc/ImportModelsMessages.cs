using System.Runtime.CompilerServices;
using Grpc.Core;
using Microservices.Registry.Import;
using Microservices.Registry.Models;
using Microservices.Registry.V1;

namespace Microservices.Registry.Grpc;

/// <summary>
/// The models of an ImportModels client stream, one mapped batch per message as it arrives, so
/// the domain refuses an oversized message or call before the rest is read. Each model is
/// numbered by its place in the whole call (models[i] in a refusal).
/// </summary>
internal static class ImportModelsMessages
{
    public static async IAsyncEnumerable<IReadOnlyList<ModelToImport>> ReadAsync(
        ImportModelsRequest first, IAsyncStreamReader<ImportModelsRequest> rest, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var index = 0;
        var message = first;
        while (true)
        {
            if (message.Offset != index)
            {
                // A stream without its first messages must not be imported from the rest (nor lose its dry_run).
                throw RegistryException.InvalidArgument(
                    "offset",
                    $"this message's models start at {message.Offset}, but {index} came before it; a stream without its first messages is refused (nothing was imported)");
            }

            // Before mapping: a message over the limit is refused for its size, not for a bad model in it.
            ModelImportLimits.EnsureMessageSize(message.Models.Count);
            var batch = new List<ModelToImport>(message.Models.Count);
            foreach (var model in message.Models)
            {
                batch.Add(model.ToImport(index++));
            }

            yield return batch;
            if (!await rest.MoveNext(cancellationToken))
            {
                yield break;
            }

            message = rest.Current;
        }
    }
}
