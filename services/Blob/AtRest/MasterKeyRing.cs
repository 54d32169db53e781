namespace Microservices.Blob.AtRest;

/// <summary>
/// Master keys that wrap per-blob data keys, from configuration (Blob:Encryption:Keys:&lt;id&gt; =
/// base64 of 32 bytes). New blobs use the active key; old ones name theirs, so keys rotate by
/// adding a new one and making it active while the old stays configured.
/// </summary>
internal sealed class MasterKeyRing
{
    private readonly Dictionary<string, byte[]> _keys;

    public MasterKeyRing(IReadOnlyDictionary<string, string> base64Keys, string? activeKeyId)
    {
        _keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (id, value) in base64Keys)
        {
            if (id.Length is 0 or > 64 || id.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_' and not '.'))
            {
                throw new InvalidOperationException($"Blob:Encryption:Keys: key id '{id}' must be 1..64 characters of [A-Za-z0-9._-].");
            }

            byte[] key;
            try
            {
                key = Convert.FromBase64String(value);
            }
            catch (FormatException)
            {
                throw new InvalidOperationException($"Blob:Encryption:Keys:{id} is not base64.");
            }

            if (key.Length != 32)
            {
                throw new InvalidOperationException($"Blob:Encryption:Keys:{id} must be 32 bytes (AES-256), got {key.Length}.");
            }

            _keys[id] = key;
        }

        if (!string.IsNullOrEmpty(activeKeyId) && !_keys.ContainsKey(activeKeyId))
        {
            throw new InvalidOperationException($"Blob:Encryption:ActiveKeyId '{activeKeyId}' is not among Blob:Encryption:Keys.");
        }

        ActiveKeyId = string.IsNullOrEmpty(activeKeyId) ? (_keys.Count == 1 ? _keys.Keys.Single() : null) : activeKeyId;
    }

    public static MasterKeyRing Empty { get; } = new(new Dictionary<string, string>(), null);

    public string? ActiveKeyId { get; }

    public bool TryGet(string keyId, out byte[] key) => _keys.TryGetValue(keyId, out key!);
}

/// <summary>A sensitive blob cannot be encrypted or decrypted with the configured keys.</summary>
internal sealed class BlobKeyException(string message) : Exception(message);

/// <summary>Stored bytes that fail their integrity check (authentication tag, digest).</summary>
internal sealed class BlobCorruptException(string message) : Exception(message);
