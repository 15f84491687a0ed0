using System.Net;
using AngleSharp;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;

namespace PsaPortal.Testing;

/// <summary>
/// Drives the portal's server-rendered pages the way a browser without JavaScript would: cookies kept, redirects
/// visible, forms found by their Blazor form name and posted with their antiforgery token.
/// </summary>
public sealed class PortalBrowser
{
    private static readonly IBrowsingContext Parser = BrowsingContext.New(Configuration.Default);

    public PortalBrowser(HttpClient client)
    {
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html,application/xhtml+xml");
        Client = client;
    }

    public HttpClient Client { get; }

    public async Task<(HttpResponseMessage Response, IDocument Document)> GetAsync(string url)
    {
        var response = await Client.GetAsync(url);
        return (response, await ParseAsync(response));
    }

    /// <summary>Loads <paramref name="pageUrl"/>, fills the form named <paramref name="formName"/> and posts it.</summary>
    public async Task<(HttpResponseMessage Response, IDocument Document)> SubmitFormAsync(
        string pageUrl, string formName, IReadOnlyDictionary<string, string> values)
    {
        var (page, document) = await GetAsync(pageUrl);
        if (page.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {pageUrl} answered {(int)page.StatusCode}, not 200.");
        }

        var form = document.QuerySelectorAll<IHtmlFormElement>("form")
            .FirstOrDefault(f => f.QuerySelector<IHtmlInputElement>("input[name=_handler]")?.Value == formName)
            ?? throw new InvalidOperationException($"{pageUrl} has no form named '{formName}'.");
        var fields = form.QuerySelectorAll<IHtmlInputElement>("input[name]")
            .ToDictionary(i => i.Name!, i => i.Value);
        foreach (var (name, value) in values)
        {
            if (!fields.ContainsKey(name))
            {
                throw new InvalidOperationException($"Form '{formName}' has no field '{name}'. Fields: {string.Join(", ", fields.Keys)}");
            }

            fields[name] = value;
        }

        var action = string.IsNullOrEmpty(form.GetAttribute("action")) ? pageUrl : form.GetAttribute("action")!;
        var response = await Client.PostAsync(action, new FormUrlEncodedContent(fields));
        return (response, await ParseAsync(response));
    }

    public Task<(HttpResponseMessage Response, IDocument Document)> SignInAsync(string email, string password) =>
        SubmitFormAsync("/account/login", "login", new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        });

    public Task<(HttpResponseMessage Response, IDocument Document)> SetUpAsync(string organization, string email, string password) =>
        SubmitFormAsync("/setup", "setup", new Dictionary<string, string>
        {
            ["Input.OrganizationName"] = organization,
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = password,
        });

    private static async Task<IDocument> ParseAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        return await Parser.OpenAsync(request => request.Content(html));
    }
}
