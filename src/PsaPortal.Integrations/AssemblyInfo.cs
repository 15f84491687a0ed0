using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("PsaPortal.Integrations.Tests")]
