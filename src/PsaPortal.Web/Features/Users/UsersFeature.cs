namespace PsaPortal.Web.Features.Users;

public static class UsersFeature
{
    public static IHostApplicationBuilder AddUsersFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<UserDirectory>();
        return builder;
    }
}
