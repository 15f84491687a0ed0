using Microsoft.Extensions.Options;

namespace PsaPortal.Web.Features.Billing;

public static class BillingNotificationFeature
{
    /// <summary>
    /// The failure notifier the billing engine calls, the settings service the panel calls, and their configuration:
    /// <c>Smtp:*</c> (checked at start, so a half-set mail server stops the portal with the setting's name) and
    /// <c>Portal:PublicUrl</c> for links to runs.
    /// </summary>
    public static IHostApplicationBuilder AddBillingNotifications(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SmtpOptions>()
            .Bind(builder.Configuration.GetSection(SmtpOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        services.AddOptions<BillingNotificationOptions>()
            .Bind(builder.Configuration.GetSection("BillingNotifications"))
            .Configure<IConfiguration>((options, configuration) =>
            {
                var publicUrl = configuration["Portal:PublicUrl"];
                options.PublicUrl = Uri.TryCreate(publicUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url : null;
            });
        services.AddSingleton<SmtpMailSender>();
        services.AddSingleton<BillingNotificationSender>();
        services.AddSingleton<IBillingFailureNotifier>(sp => sp.GetRequiredService<BillingNotificationSender>());
        services.AddSingleton<BillingNotificationService>();
        return builder;
    }

    /// <summary>Names the exact problem at start instead of a generic "validation failed".</summary>
    private sealed class SmtpOptionsValidator : IValidateOptions<SmtpOptions>
    {
        public ValidateOptionsResult Validate(string? name, SmtpOptions options) =>
            options.Problem() is { } problem
                ? ValidateOptionsResult.Fail(problem)
                : ValidateOptionsResult.Success;
    }
}
