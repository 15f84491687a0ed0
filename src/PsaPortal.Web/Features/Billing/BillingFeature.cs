using Quartz;

namespace PsaPortal.Web.Features.Billing;

/// <summary>The <c>Billing</c> configuration section.</summary>
public sealed class BillingOptions
{
    public const string SectionName = "Billing";

    /// <summary>
    /// PSA calls a run makes at once (writes, and ConnectWise's per-agreement reads); the clients' request budgets pace
    /// them further. 1–32.
    /// </summary>
    public int MaxConcurrentCalls { get; set; } = 4;
}

public static class BillingFeature
{
    public static IHostApplicationBuilder AddBillingFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BillingOptions>()
            .Bind(builder.Configuration.GetSection(BillingOptions.SectionName))
            .Validate(o => o.MaxConcurrentCalls is >= 1 and <= 32, "Billing:MaxConcurrentCalls must be between 1 and 32, e.g. 4.")
            .ValidateOnStart();
        builder.Services.AddSingleton<BillingRowSource>();
        builder.Services.AddSingleton<BillingEngine>();
        builder.Services.AddSingleton<BillingRunStarter>();
        builder.Services.AddSingleton<BillingScheduleTriggers>();
        builder.Services.AddSingleton<BillingRuns>();
        builder.Services.AddSingleton<IBillingRuns>(services => services.GetRequiredService<BillingRuns>());
        builder.Services.AddSingleton<IBillingRunQueries>(services => services.GetRequiredService<BillingRuns>());
        builder.Services.AddHostedService<BillingStartup>();
        builder.Services.AddHostedService<BillingCancelRelay>();
        builder.AddQuartz(quartz => quartz.AddJob<BillingSyncJob>(job => job.WithIdentity(BillingSyncJob.Key).StoreDurably().RequestRecovery()));
        return builder;
    }
}
