using Xunit.Abstractions;
using Xunit.Sdk;

namespace PsaPortal.ClusterTests;

/// <summary>The order the tests of a class run in (lowest first); the cluster tests share two nodes and the last one kills one.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TestOrderAttribute(int order) : Attribute
{
    public int Order { get; } = order;
}

public sealed class ByTestOrder : ITestCaseOrderer
{
    public const string TypeName = "PsaPortal.ClusterTests.ByTestOrder";
    public const string AssemblyName = "PsaPortal.ClusterTests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(TestOrderAttribute).AssemblyQualifiedName!)
            .Select(a => (int)a.GetConstructorArguments().First()).DefaultIfEmpty(int.MaxValue).First());
}
