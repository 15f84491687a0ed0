using PsaPortal.Web;

var appArgs = PortalApplication.ApplyCommandLineSwitches(args, out var switches);
var builder = WebApplication.CreateBuilder(appArgs);
builder.Configuration.AddInMemoryCollection(switches);
builder.AddPortal();

var app = builder.Build();
app.UsePortal();
await app.RunAsync();

public partial class Program;
