using System.Net.Http.Headers;
using System.Text;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.ConnectWise;

/// <summary>
/// Adds what ConnectWise needs on every API call: Basic <c>companyId+publicKey:privateKey</c>, the
/// integrator's <c>clientId</c> and the versioned <c>Accept</c>. Discovery calls go out bare.
/// </summary>
internal sealed class ConnectWiseAuthHandler(ConnectWiseConnection connection, string apiVersion) : DelegatingHandler
{
    private readonly AuthenticationHeaderValue _authorization = new(
        "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{connection.CompanyId}+{connection.PublicKey}:{connection.PrivateKey}")));

    private readonly MediaTypeWithQualityHeaderValue _accept = MediaTypeWithQualityHeaderValue.Parse($"application/vnd.connectwise.com+json; version={apiVersion}");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Accept.Clear();
        if (request.Options.TryGetValue(PsaRequestOptions.Anonymous, out var anonymous) && anonymous)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            return base.SendAsync(request, cancellationToken);
        }

        request.Headers.Authorization = _authorization;
        request.Headers.Remove("clientId");
        request.Headers.TryAddWithoutValidation("clientId", connection.ClientId);
        request.Headers.Accept.Add(_accept);
        return base.SendAsync(request, cancellationToken);
    }
}
