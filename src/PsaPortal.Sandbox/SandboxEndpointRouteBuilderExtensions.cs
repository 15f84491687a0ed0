using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;
using PsaPortal.Sandbox.Hosting;

namespace PsaPortal.Sandbox;

public static class SandboxEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps ConnectWise under <c>{pathPrefix}/connectwise</c> and Autotask under <c>{pathPrefix}/autotask</c>,
    /// each with its control API under <c>…/_sandbox</c>. Everything is a route group with endpoint
    /// filters: nothing here touches the host's other routes. The sandbox checks vendor credentials
    /// itself, so the group allows anonymous access and stays out of the host's OpenAPI document.
    /// </summary>
    public static RouteGroupBuilder MapPsaSandbox(this IEndpointRouteBuilder endpoints, string pathPrefix = "/sandbox")
    {
        var sandbox = endpoints.ServiceProvider.GetRequiredService<PsaSandbox>();
        var root = endpoints.MapGroup(pathPrefix).AllowAnonymous().ExcludeFromDescription();

        var connectWise = root.MapGroup("/connectwise");
        ConnectWiseEndpoints.Map(connectWise, sandbox.ConnectWise, sandbox.Clock);
        SandboxControlEndpoints.MapConnectWise(connectWise.MapGroup("/_sandbox"), sandbox);

        var autotask = root.MapGroup("/autotask");
        AutotaskEndpoints.Map(autotask, sandbox.Autotask, sandbox.Clock);
        SandboxControlEndpoints.MapAutotask(autotask.MapGroup("/_sandbox"), sandbox);
        return root;
    }
}
