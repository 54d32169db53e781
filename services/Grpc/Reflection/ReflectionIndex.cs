using Google.Protobuf;
using Google.Protobuf.Reflection;
using Microservices.Grpc.Server;

namespace Microservices.Grpc.Reflection;

/// <summary>Every file, symbol and service a host serves, built once from the registered descriptors.</summary>
internal sealed class ReflectionIndex
{
    private readonly Dictionary<string, FileDescriptor> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileDescriptor> _symbols = new(StringComparer.Ordinal);
    private readonly HashSet<string> _messages = new(StringComparer.Ordinal);

    public ReflectionIndex(GrpcServiceRegistrations registrations)
    {
        ServiceNames = registrations.Services.Select(s => s.FullName).ToList();
        foreach (var service in registrations.Services)
        {
            AddFile(service.File);
        }
    }

    public IReadOnlyList<string> ServiceNames { get; }

    public FileDescriptor? FindFile(string name) => _files.GetValueOrDefault(name);

    public FileDescriptor? FindFileContainingSymbol(string symbol)
    {
        if (_symbols.TryGetValue(symbol, out var file))
        {
            return file;
        }

        // "package.Service.Method" names a method: look up its service.
        var dot = symbol.LastIndexOf('.');
        return dot > 0 && _symbols.TryGetValue(symbol[..dot], out file) ? file : null;
    }

    public bool IsKnownMessage(string fullName) => _messages.Contains(fullName);

    /// <summary>The file and every file it imports, transitively, each once, the file itself first.</summary>
    public static IEnumerable<ByteString> WithDependencies(FileDescriptor file, ISet<string> alreadySent)
    {
        var pending = new Stack<FileDescriptor>();
        pending.Push(file);
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            if (!alreadySent.Add(next.Name))
            {
                continue;
            }

            yield return next.SerializedData;
            foreach (var dependency in next.Dependencies)
            {
                pending.Push(dependency);
            }
        }
    }

    private void AddFile(FileDescriptor file)
    {
        if (!_files.TryAdd(file.Name, file))
        {
            return;
        }

        foreach (var service in file.Services)
        {
            _symbols[service.FullName] = file;
        }

        foreach (var message in file.MessageTypes)
        {
            AddMessage(file, message);
        }

        foreach (var enumType in file.EnumTypes)
        {
            _symbols[enumType.FullName] = file;
        }

        foreach (var dependency in file.Dependencies)
        {
            AddFile(dependency);
        }
    }

    private void AddMessage(FileDescriptor file, MessageDescriptor message)
    {
        _symbols[message.FullName] = file;
        _messages.Add(message.FullName);
        foreach (var nested in message.NestedTypes)
        {
            AddMessage(file, nested);
        }

        foreach (var enumType in message.EnumTypes)
        {
            _symbols[enumType.FullName] = file;
        }
    }
}
