using Quartz;

namespace PsaPortal.Web.Features.Reference;

/// <summary>The <c>Reference</c> configuration section.</summary>
public sealed class ReferenceOptions
{
    public const string SectionName = "Reference";

    /// <summary>How often each connected integration's PSA reference data is copied again.</summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromHours(6);
}

public static class ReferenceFeature
{
    public static IHostApplicationBuilder AddReferenceFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReferenceOptions>()
            .Bind(builder.Configuration.GetSection(ReferenceOptions.SectionName))
            .Validate(o => o.SyncInterval >= TimeSpan.FromMinutes(1), "Reference:SyncInterval must be at least 00:01:00 (one minute), e.g. 06:00:00 for every six hours.")
            .ValidateOnStart();
        builder.Services.AddSingleton<PsaReferenceSync>();
        builder.Services.AddSingleton<ReferenceSyncJobs>();
        builder.AddQuartz(quartz => quartz.AddJob<SyncReferenceDataJob>(job => job.WithIdentity(SyncReferenceDataJob.Key).StoreDurably().RequestRecovery()));
        return builder;
    }
}
