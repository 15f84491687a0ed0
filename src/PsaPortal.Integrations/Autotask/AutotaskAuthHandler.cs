using System.Net.Http.Headers;
using PsaPortal.Integrations.Resilience;

namespace PsaPortal.Integrations.Autotask;

/// <summary>Adds <c>ApiIntegrationCode</c>, <c>UserName</c> and <c>Secret</c> to every call except zone discovery.</summary>
internal sealed class AutotaskAuthHandler(AutotaskConnection connection) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Accept.Clear();
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (!(request.Options.TryGetValue(PsaRequestOptions.Anonymous, out var anonymous) && anonymous))
        {
            foreach (var (name, value) in new[] { ("ApiIntegrationCode", connection.IntegrationCode), ("UserName", connection.UserName), ("Secret", connection.Secret) })
            {
                request.Headers.Remove(name);
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return base.SendAsync(request, cancellationToken);
    }
}
