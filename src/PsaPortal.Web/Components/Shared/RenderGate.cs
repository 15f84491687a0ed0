using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;

namespace PsaPortal.Web.Components.Shared;

/// <summary>
/// Renders its content again only when <see cref="Key"/> changed. A page that redraws often for one part of it (a
/// running sync's counts, five times a second) otherwise renders everything else with it: a run page's grid of 50 rows
/// of Radzen components, 25 such pages in the load run, took most of the portal's CPU to produce identical output. The
/// key is what the content shows (e.g. a fingerprint of the visible rows); the content's own components still render
/// themselves when their own state changes (paging, sorting).
/// </summary>
public sealed class RenderGate : ComponentBase
{
    private object? _renderedKey;

    [Parameter, EditorRequired]
    public RenderFragment? ChildContent { get; set; }

    [Parameter, EditorRequired]
    public object? Key { get; set; }

    // The first render happens whatever this says.
    protected override bool ShouldRender() => !Equals(_renderedKey, Key);

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        _renderedKey = Key;
        builder.AddContent(0, ChildContent);
    }
}
