namespace Microservices.Hosting.Security;

/// <summary>
/// What an owner (a token's subject) must look like where it names storage: blob and export key
/// their objects by owner, so a subject with a path separator or a leading dot must never reach them.
/// </summary>
public static class OwnerNames
{
    public const int MaxLength = 128;

    public const string Rule = "1..128 characters of [A-Za-z0-9._@-] not starting with '.'";

    public static bool IsValid(string? owner) =>
        !string.IsNullOrEmpty(owner)
        && owner.Length <= MaxLength
        && owner[0] != '.'
        && owner.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@');
}
