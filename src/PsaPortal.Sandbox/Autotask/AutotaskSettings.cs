using PsaPortal.Sandbox.Core;

namespace PsaPortal.Sandbox.Autotask;

/// <summary>Runtime knobs of the Autotask simulator; replace them through <see cref="AutotaskSandbox.Configure"/> or the control API.</summary>
public sealed record AutotaskSettings
{
    public FaultSettings Faults { get; init; } = new();

    /// <summary>External requests allowed per rolling 60 minutes for the database (Autotask's default is 10,000).</summary>
    public int HourlyThreshold { get; init; } = 10_000;

    /// <summary>Adds the vendor's back-off delay as usage grows: +0.5 s from 50 % and +1 s from 75 % of the threshold.</summary>
    public bool ThresholdLatencyEnabled { get; init; } = true;

    /// <summary>Concurrent requests per (tracking identifier + object endpoint); 0 turns the rule off.</summary>
    public int ThreadLimitPerEndpoint { get; init; } = 3;

    /// <summary>Status of a thread-limit rejection; the vendor does not always use 429.</summary>
    public int ThreadLimitStatusCode { get; init; } = 429;

    /// <summary>The zone (webservices<i>N</i>) the database lives in. Changing it makes calls on the old zone's URL fail with 401.</summary>
    public int ZoneNumber { get; init; } = 5;
}
