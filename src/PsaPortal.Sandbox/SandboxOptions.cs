using PsaPortal.Sandbox.Autotask;
using PsaPortal.Sandbox.ConnectWise;

namespace PsaPortal.Sandbox;

/// <summary>
/// Start-up configuration of the sandbox. Standalone, bind it from the command line
/// (<c>--seed 7 --companies 10000</c> or <c>--Sandbox:ConnectWise:RateLimitPerMinute=600</c>);
/// mounted in the portal, pass a delegate to <see cref="SandboxServiceCollectionExtensions.AddPsaSandbox"/>.
/// </summary>
public sealed class SandboxOptions
{
    public int Seed { get; set; } = 1;

    public int CompanyCount { get; set; } = 50;

    /// <summary>Anchors contract periods (future-dated, expired); defaults to today (UTC) at start-up.</summary>
    public DateOnly? ReferenceDate { get; set; }

    /// <summary>When set, state is loaded from this JSON file at start-up (if it exists) and written back at shutdown.</summary>
    public string? SnapshotPath { get; set; }

    /// <summary>How many calls each vendor's request log keeps.</summary>
    public int RequestLogCapacity { get; set; } = 20_000;

    public ConnectWiseSettings ConnectWise { get; set; } = new();

    public AutotaskSettings Autotask { get; set; } = new();
}
