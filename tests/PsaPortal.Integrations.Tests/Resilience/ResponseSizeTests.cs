using System.Net;
using PsaPortal.Integrations.ConnectWise;
using PsaPortal.Integrations.Errors;
using PsaPortal.Integrations.Psa;
using PsaPortal.Integrations.Tests.Infrastructure;
using RichardSzalay.MockHttp;

namespace PsaPortal.Integrations.Tests.Resilience;

/// <summary>
/// A PSA answer over MaxResponseBytes is refused with a clear reason and read no further: announced (Content-Length) or
/// streamed without a length. Not retried (the same request brings the same answer); a write it answered may have been
/// applied, so that is OutcomeUnknown.
/// </summary>
public sealed class ResponseSizeTests
{
    private const long Limit = 1024 * 1024;
    private const string SystemInfo = ConnectWiseStub.ApiRoot + "system/info";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Get_AnswerOverTheLimit_FailsOnceWithTheSizeAndIsNotReadOn(bool announced)
    {
        using var mock = ConnectWiseStub.Handler();
        var body = new EndlessJson(Limit * 4);
        mock.When(SystemInfo).Respond(_ => Answer(body, announced ? Limit * 4 : null));
        var calls = new ListCallRecorder();
        using var factory = Factory(mock, calls);

        var failure = await Assert.ThrowsAsync<PsaException>(() => factory.CreateConnectWise(ConnectWiseStub.Site).GetSystemInfoAsync());

        Assert.Equal(PsaErrorKind.Unavailable, failure.Kind);
        Assert.Equal("ConnectWise answered GET /v2025_1/apis/3.0/system/info with more than 1 MB, the most PsaPortal reads of one answer. Nothing of it was used.", failure.Message);
        Assert.Single(calls.Records, r => r.Operation == "GetSystemInfo");
        Assert.InRange(body.BytesRead, 0, Limit + 128 * 1024);
    }

    [Fact]
    public async Task Get_AnswerJustUnderTheLimit_IsRead()
    {
        using var mock = ConnectWiseStub.Handler();
        var version = new string('9', (int)Limit - 64);
        mock.When(SystemInfo).Respond("application/json", $$"""{"version":"v{{version}}"}""");
        using var factory = Factory(mock, new ListCallRecorder());

        var info = await factory.CreateConnectWise(ConnectWiseStub.Site).GetSystemInfoAsync();

        Assert.Equal("v" + version, info.Version);
    }

    [Fact]
    public async Task CreateAddition_AnswerOverTheLimit_IsOutcomeUnknownAndSentOnce()
    {
        using var mock = ConnectWiseStub.Handler();
        var posts = 0;
        mock.When(HttpMethod.Post, ConnectWiseStub.ApiRoot + "finance/agreements/7/additions")
            .Respond(_ =>
            {
                posts++;
                return Answer(new EndlessJson(Limit * 2), null, HttpStatusCode.Created);
            });
        using var factory = Factory(mock, new ListCallRecorder());

        var failure = await Assert.ThrowsAsync<PsaException>(() =>
            factory.CreateConnectWise(ConnectWiseStub.Site).CreateAdditionAsync(7, new PsaAdditionDraft(11, 5, new DateOnly(2026, 1, 1))));

        Assert.Equal(PsaErrorKind.OutcomeUnknown, failure.Kind);
        Assert.Equal(HttpStatusCode.Created, failure.StatusCode);
        Assert.StartsWith("ConnectWise may or may not have applied POST /v2025_1/apis/3.0/finance/agreements/7/additions: ConnectWise answered POST", failure.Message, StringComparison.Ordinal);
        Assert.Contains("with more than 1 MB", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, posts);
    }

    private static PsaClientFactory Factory(MockHttpMessageHandler mock, ListCallRecorder calls) => new(calls, new PsaClientFactoryOptions
    {
        PrimaryHandler = mock,
        TimeProvider = new AcceleratedTimeProvider(TestClients.Speed),
        ConnectWise = new ConnectWiseOptions { Resilience = TestClients.FastResilience with { MaxResponseBytes = Limit } },
    });

    private static HttpResponseMessage Answer(Stream body, long? length, HttpStatusCode status = HttpStatusCode.OK)
    {
        var content = new StreamContent(body);
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentLength = length;
        return new HttpResponseMessage(status) { Content = content };
    }

    /// <summary>A JSON string of <paramref name="size"/> bytes made as it is read, counting how much was read.</summary>
    private sealed class EndlessJson(long size) : Stream
    {
        private long _position;

        public long BytesRead => _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, size - _position);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = _position + i == 0 ? (byte)'"' : (byte)'x';
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
