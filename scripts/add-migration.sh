#!/usr/bin/env bash
# Adds a migration to both providers' migration sets: scripts/add-migration.sh <Name>
# Needs the local dotnet-ef tool (dotnet-tools.json); EfDesign=true brings in the design-time package (docs/adr/0003).
set -euo pipefail
name=${1:?usage: scripts/add-migration.sh <MigrationName>}
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
export EfDesign=true
for provider in Sqlite PostgreSql; do
  dotnet ef migrations add "$name" \
    --project src/PsaPortal.Web --startup-project src/PsaPortal.Web \
    --context "${provider}PortalDbContext" \
    --output-dir "Data/Migrations/$provider" --namespace "PsaPortal.Web.Data.Migrations.$provider"
done
# With no snapshot yet, dotnet ef files it by namespace (src/PsaPortal.Web/PsaPortal/Web/…); keep it beside its migrations.
if [ -d src/PsaPortal.Web/PsaPortal ]; then
  for provider in Sqlite PostgreSql; do
    mv src/PsaPortal.Web/PsaPortal/Web/Data/Migrations/$provider/*.cs "src/PsaPortal.Web/Data/Migrations/$provider/" 2>/dev/null || true
  done
  rm -rf src/PsaPortal.Web/PsaPortal
fi
# Leave the normal build without the design-time references again.
unset EfDesign
dotnet restore src/PsaPortal.Web >/dev/null
