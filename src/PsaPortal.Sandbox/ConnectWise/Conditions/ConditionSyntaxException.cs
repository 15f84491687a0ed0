namespace PsaPortal.Sandbox.ConnectWise.Conditions;

/// <summary>A conditions string the vendor would refuse with a 400 (bad syntax or an unknown field).</summary>
public sealed class ConditionSyntaxException(string message) : Exception(message);
