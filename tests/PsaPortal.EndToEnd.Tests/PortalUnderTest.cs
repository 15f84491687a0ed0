using PsaPortal.Testing;

namespace PsaPortal.EndToEnd.Tests;

/// <summary>One live portal and browser shared by the browser tests (see <see cref="LivePortal"/>).</summary>
public sealed class PortalUnderTest : LivePortal;

[CollectionDefinition(Name)]
public sealed class PortalCollection : ICollectionFixture<PortalUnderTest>
{
    public const string Name = "Portal in Chromium";
}
