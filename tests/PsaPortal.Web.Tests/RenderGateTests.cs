using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PsaPortal.Web.Components.Shared;

namespace PsaPortal.Web.Tests;

/// <summary>A page that redraws its counts five times a second leaves the gated grid alone until what it shows changed.</summary>
public sealed class RenderGateTests
{
    [Fact]
    public async Task ThePageRedrawingWithTheSameKey_LeavesTheContentAlone_ANewKeyRendersIt()
    {
        await using var services = new ServiceCollection().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, NullLoggerFactory.Instance);
        var page = new Dictionary<string, object?> { [nameof(Page.Key)] = 1 };

        var root = await renderer.Dispatcher.InvokeAsync(() => renderer.RenderComponentAsync<Page>(ParameterView.FromDictionary(page)));
        await renderer.Dispatcher.InvokeAsync(() => Page.Current!.Redraw(key: 1, counts: 2));
        await renderer.Dispatcher.InvokeAsync(() => Page.Current!.Redraw(key: 1, counts: 3));
        var unchanged = await renderer.Dispatcher.InvokeAsync(root.ToHtmlString);
        await renderer.Dispatcher.InvokeAsync(() => Page.Current!.Redraw(key: 2, counts: 4));
        var changed = await renderer.Dispatcher.InvokeAsync(root.ToHtmlString);

        Assert.Equal("<p>counts 3</p><div>grid rendered 1 times</div>", unchanged);
        Assert.Equal("<p>counts 4</p><div>grid rendered 2 times</div>", changed);
    }

    /// <summary>Counts outside the gate, a render counter inside it.</summary>
    private sealed class Page : ComponentBase
    {
        private int _counts = 1;
        private int _gridRenders;

        public static Page? Current { get; private set; }

        [Parameter]
        public int Key { get; set; }

        public void Redraw(int key, int counts)
        {
            (Key, _counts) = (key, counts);
            StateHasChanged();
        }

        protected override void OnInitialized() => Current = this;

        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            builder.AddMarkupContent(0, $"<p>counts {_counts}</p>");
            builder.OpenComponent<RenderGate>(1);
            builder.AddComponentParameter(2, nameof(RenderGate.Key), Key);
            builder.AddComponentParameter(3, nameof(RenderGate.ChildContent), (RenderFragment)(grid =>
            {
                _gridRenders++;
                grid.AddMarkupContent(0, $"<div>grid rendered {_gridRenders} times</div>");
            }));
            builder.CloseComponent();
        }
    }
}
