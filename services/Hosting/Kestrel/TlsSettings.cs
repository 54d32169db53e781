namespace Microservices.Hosting.Kestrel;

/// <summary>Section "Hosting:Tls": the server certificate every endpoint presents, and optional mutual TLS.</summary>
internal sealed class TlsSettings
{
    /// <summary>PEM server certificate, optionally followed by its intermediates. Unset: no TLS from this section.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="CertificatePath"/>; unset when the key is in that file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Whether clients must present a certificate issued by <see cref="ClientCaPath"/>.</summary>
    public ClientCertificateRequirement ClientCertificateMode { get; set; } = ClientCertificateRequirement.None;

    /// <summary>PEM CA (or CAs) client certificates must chain to; the machine's roots are not trusted for clients.</summary>
    public string? ClientCaPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>Mutual TLS: off, or every connection must present a certificate from the client CA.</summary>
internal enum ClientCertificateRequirement
{
    None,
    Require,
}
