using PsaPortal.Integrations.ConnectWise;
using RichardSzalay.MockHttp;

namespace PsaPortal.Integrations.Tests.Infrastructure;

/// <summary>
/// A ConnectWise cloud site answered by a stub handler, for the few cases the sandbox cannot produce on demand (a given
/// sequence of 5xx, an answer of a given size): the site, and a handler that already answers its codebase discovery.
/// </summary>
internal static class ConnectWiseStub
{
    public static readonly ConnectWiseConnection Site = new("stub", "na.myconnectwise.net", "acme", "pub", "priv", "5f0c3a8e-6d1b-4c2a-9e47-3b8f2d6a1c90");

    /// <summary>The API root after discovery: <c>https://api-na.myconnectwise.net/v2025_1/apis/3.0/</c>.</summary>
    public const string ApiRoot = "https://api-na.myconnectwise.net/v2025_1/apis/3.0/";

    public static MockHttpMessageHandler Handler()
    {
        var mock = new MockHttpMessageHandler(BackendDefinitionBehavior.Always);
        mock.When("https://api-na.myconnectwise.net/login/companyinfo/acme").Respond("application/json", """{"Codebase":"v2025_1/","CompanyID":"acme","IsCloud":"True"}""");
        return mock;
    }
}
