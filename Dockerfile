# PsaPortal: built with the .NET 10 SDK, run on the ASP.NET Core runtime image as its non-root user.
# docs/runbook.md ("Containers") explains the choices. No Docker engine runs on the machines that build PsaPortal, so
# this file is checked by reading, not by building: keep it plain.
#
#   docker build -t psaportal .
#   docker run -p 8080:8080 -v psaportal-data:/app/data psaportal          # one node, SQLite in the volume
#   docker compose up                                                       # two nodes, PostgreSQL, Caddy (compose.yaml)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore from the files that decide it, so a code change alone does not download the packages again. global.json
# chooses the SDK, Directory.Packages.props every version, build/ the Blazor script workaround (docs/adr/0001).
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY build/ build/
COPY src/PsaPortal.Web/PsaPortal.Web.csproj src/PsaPortal.Web/
COPY src/PsaPortal.Integrations/PsaPortal.Integrations.csproj src/PsaPortal.Integrations/
COPY src/PsaPortal.Sandbox/PsaPortal.Sandbox.csproj src/PsaPortal.Sandbox/
RUN dotnet restore src/PsaPortal.Web/PsaPortal.Web.csproj

COPY src/ src/
RUN dotnet publish src/PsaPortal.Web/PsaPortal.Web.csproj -c Release --no-restore -o /app/publish -p:UseAppHost=false


FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app/publish ./

# The data folder (Storage:DataDirectory, "data" under /app): the SQLite file and its key ring on a single node, the
# built-in sandbox's state. Only it is writable by the app user; the program files stay root's.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data
VOLUME /app/data

# The image's own non-root user ("app", uid $APP_UID = 1654).
USER $APP_UID
ENV ASPNETCORE_HTTP_PORTS=8080
# glibc's malloc keeps up to eight arenas a core, each holding the native memory freed in it; two serve the portal and
# keep some 20 MB out of its resident set under load (ADR-0015). Set it in any other way of running the portal too.
ENV MALLOC_ARENA_MAX=2
EXPOSE 8080

# The image has no curl or wget; bash (Ubuntu 24.04 base) speaks enough HTTP to ask /health/live for its status line.
# Orchestrators should probe the endpoints themselves (/health/live for restarts, /health/ready for traffic): see
# docs/runbook.md. A chiseled base image has no bash: drop this line there.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["dotnet", "PsaPortal.Web.dll"]
