using System.Collections;
using System.Text;

namespace Microservices.Grpc;

/// <summary>
/// Call metadata (headers or trailers): ordered entries, keys lower-case; keys ending in
/// "-bin" carry bytes (base64 on the wire), all others ASCII strings.
/// </summary>
public sealed class Metadata : IEnumerable<Metadata.Entry>
{
    public const string BinarySuffix = "-bin";

    private readonly List<Entry> _entries = [];

    public int Count => _entries.Count;

    public Metadata Add(string key, string value)
    {
        _entries.Add(new Entry(key, value));
        return this;
    }

    public Metadata Add(string key, byte[] value)
    {
        _entries.Add(new Entry(key, value));
        return this;
    }

    public void Add(Entry entry) => _entries.Add(entry);

    public Entry? Get(string key)
    {
        key = key.ToLowerInvariant();
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key == key)
            {
                return _entries[i];
            }
        }

        return null;
    }

    public string? GetValue(string key) => Get(key)?.Value;

    public byte[]? GetBytes(string key) => Get(key)?.ValueBytes;

    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal static bool IsBinaryKey(string key) => key.EndsWith(BinarySuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>One metadata entry.</summary>
    public sealed class Entry
    {
        private readonly string? _value;
        private readonly byte[]? _bytes;

        public Entry(string key, string value)
        {
            Key = ValidateKey(key);
            if (IsBinary)
            {
                throw new ArgumentException($"Metadata key '{key}' ends in '-bin' and takes a byte[] value.", nameof(key));
            }

            foreach (var c in value)
            {
                if (c < 0x20 || c > 0x7e)
                {
                    throw new ArgumentException($"Metadata value for '{key}' must be printable ASCII.", nameof(value));
                }
            }

            _value = value;
        }

        public Entry(string key, byte[] value)
        {
            Key = ValidateKey(key);
            if (!IsBinary)
            {
                throw new ArgumentException($"Metadata key '{key}' takes a string value; binary keys end in '-bin'.", nameof(key));
            }

            _bytes = value;
        }

        public string Key { get; }

        public bool IsBinary => IsBinaryKey(Key);

        /// <summary>The string value; for a binary entry, its bytes as Latin-1 text is meaningless, so this throws.</summary>
        public string Value => _value ?? throw new InvalidOperationException($"Metadata entry '{Key}' is binary; read ValueBytes.");

        public byte[] ValueBytes => _bytes ?? Encoding.ASCII.GetBytes(_value!);

        public override string ToString() => IsBinary ? $"{Key}: {Convert.ToBase64String(_bytes!)}" : $"{Key}: {_value}";

        private static string ValidateKey(string key)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            var lower = key.ToLowerInvariant();
            foreach (var c in lower)
            {
                var ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.';
                if (!ok)
                {
                    throw new ArgumentException($"Metadata key '{key}' may contain only 0-9 a-z _ - .", nameof(key));
                }
            }

            return lower;
        }
    }
}
