using System.Net;
using System.Text;
using System.Text.Json;
using PsaPortal.Integrations.Autotask;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Resilience;
using PsaPortal.Integrations.Tests.Infrastructure;

namespace PsaPortal.Integrations.Tests.Security;

/// <summary>
/// A PSA (or a proxy before it) that answers an error by echoing every header it was sent, decoded Basic credentials
/// included. The error the portal gets back — its message and every vendor error kept with it — holds none of the
/// credentials, whatever the status: the text is redacted where it is read.
/// </summary>
public sealed class SecretEchoTests
{
    private const string PublicKey = "EchoPublicKey7731";
    private const string PrivateKey = "EchoPrivateKey9946";
    private const string ClientId = "9d1b7d52-echo-client-id-71f0";
    private const string AutotaskSecret = "Echo$ecret#5521";
    private const string IntegrationCode = "ECHOTRACKINGCODE8810";

    private static readonly PsaResilienceOptions NoRetries = new() { MaxRetryAttempts = 0, BreakerMinimumThroughput = 100 };

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    public async Task ConnectWise_ErrorEchoingCredentials_ExceptionHoldsNoCredential(HttpStatusCode status)
    {
        using var echo = new EchoHandler(status, autotask: false);
        using var factory = new PsaClientFactory(new ListCallRecorder(), new PsaClientFactoryOptions
        {
            PrimaryHandler = echo,
            ConnectWise = new ConnectWiseOptions { Resilience = NoRetries },
        });
        var api = factory.CreateConnectWise(new ConnectWiseConnection("cw-echo", "https://na.myconnectwise.net", "northwind", PublicKey, PrivateKey, ClientId));

        var failure = await Assert.ThrowsAsync<PsaException>(() => api.GetSystemInfoAsync());

        Assert.Contains(PrivateKey, echo.LastBody, StringComparison.Ordinal);
        AssertHoldsNone(failure, PublicKey, PrivateKey, ClientId, Base64($"northwind+{PublicKey}:{PrivateKey}"));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.InternalServerError)]
    public async Task Autotask_ErrorEchoingCredentials_ExceptionHoldsNoCredential(HttpStatusCode status)
    {
        using var echo = new EchoHandler(status, autotask: true);
        using var factory = new PsaClientFactory(new ListCallRecorder(), new PsaClientFactoryOptions
        {
            PrimaryHandler = echo,
            Autotask = new AutotaskOptions { Resilience = NoRetries },
        });
        var api = factory.CreateAutotask(new AutotaskConnection("at-echo", "api@northwind.example", AutotaskSecret, IntegrationCode));

        var failure = await Assert.ThrowsAsync<PsaException>(() => api.GetThresholdInformationAsync());

        Assert.Contains(AutotaskSecret, echo.LastBody, StringComparison.Ordinal);
        AssertHoldsNone(failure, AutotaskSecret, IntegrationCode, Uri.EscapeDataString(AutotaskSecret));
    }

    private static void AssertHoldsNone(PsaException failure, params string[] secrets)
    {
        var text = failure.Message + "\n" + failure + "\n" + string.Join("\n", failure.VendorErrors.Select(e => $"{e.Code} {e.Message} {e.Field} {e.Resource}"));
        Assert.Contains("***", text, StringComparison.Ordinal);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>Answers zone discovery normally (Autotask) and everything else with an error that repeats the request's headers.</summary>
    private sealed class EchoHandler(HttpStatusCode status, bool autotask) : HttpMessageHandler
    {
        public string LastBody { get; private set; } = "";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (autotask && request.RequestUri!.AbsolutePath.Contains("zoneInformation", StringComparison.OrdinalIgnoreCase))
            {
                return Task.FromResult(Json(HttpStatusCode.OK, new { url = "https://webservices5.autotask.net/atservicesrest/", webUrl = "https://ww5.autotask.net/" }));
            }

            if (!autotask && request.RequestUri!.AbsolutePath.Contains("login/companyinfo", StringComparison.OrdinalIgnoreCase))
            {
                return Task.FromResult(Json(HttpStatusCode.OK, new { CompanyName = "Northwind", Codebase = "v2025_1/", VersionCode = "v2025.1", CompanyID = "northwind", IsCloud = "true" }));
            }

            var echoed = new StringBuilder("You sent:");
            foreach (var (name, values) in request.Headers)
            {
                foreach (var value in values)
                {
                    echoed.Append(' ').Append(name).Append('=').Append(value).Append(" (").Append(Uri.EscapeDataString(value)).Append(')');
                    if (value.StartsWith("Basic ", StringComparison.Ordinal))
                    {
                        echoed.Append(" decoded=").Append(Encoding.UTF8.GetString(Convert.FromBase64String(value[6..])));
                    }
                }
            }

            LastBody = echoed.ToString();
            object body = autotask ? new { errors = new[] { LastBody } } : new { code = "Echo", message = LastBody, errors = new[] { new { code = "Echo", message = LastBody, field = "key" } } };
            var response = Json(status, body);
            response.RequestMessage = request;
            return Task.FromResult(response);
        }

        private static HttpResponseMessage Json(HttpStatusCode code, object body) =>
            new(code) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
    }
}
