using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PsaPortal.Web.Data.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Ticketing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "IncidentTickets",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    IncidentId = table.Column<long>(type: "bigint", nullable: false),
                    State = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    FailedStep = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    ExternalReference = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    TicketPsaId = table.Column<long>(type: "bigint", nullable: true),
                    TicketNumber = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    TicketUrl = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    Error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    SyncedIncidentAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ClosedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IncidentTickets", x => x.Id);
                    table.ForeignKey(
                        name: "FK_IncidentTickets_Incidents_IncidentId",
                        column: x => x.IncidentId,
                        principalTable: "Incidents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_IncidentTickets_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TicketingSettings",
                columns: table => new
                {
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    BoardId = table.Column<long>(type: "bigint", nullable: true),
                    BoardName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    DefaultCompanyPsaId = table.Column<long>(type: "bigint", nullable: true),
                    DefaultCompanyName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    SourceId = table.Column<long>(type: "bigint", nullable: true),
                    SourceName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ClosedStatusId = table.Column<long>(type: "bigint", nullable: true),
                    ClosedStatusName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    QueueId = table.Column<long>(type: "bigint", nullable: true),
                    QueueName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    NewStatusId = table.Column<long>(type: "bigint", nullable: true),
                    NewStatusName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    UpdatedStatusId = table.Column<long>(type: "bigint", nullable: true),
                    UpdatedStatusName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    AutotaskClosedStatusId = table.Column<long>(type: "bigint", nullable: true),
                    AutotaskClosedStatusName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    DefaultPriorityId = table.Column<long>(type: "bigint", nullable: true),
                    DefaultPriorityName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    LowPriorityId = table.Column<long>(type: "bigint", nullable: true),
                    LowPriorityName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    MediumPriorityId = table.Column<long>(type: "bigint", nullable: true),
                    MediumPriorityName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    HighPriorityId = table.Column<long>(type: "bigint", nullable: true),
                    HighPriorityName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    CriticalPriorityId = table.Column<long>(type: "bigint", nullable: true),
                    CriticalPriorityName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TicketingSettings", x => x.IntegrationId);
                    table.ForeignKey(
                        name: "FK_TicketingSettings_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_IncidentTickets_IncidentId",
                table: "IncidentTickets",
                column: "IncidentId");

            migrationBuilder.CreateIndex(
                name: "IX_IncidentTickets_IntegrationId_ExternalReference",
                table: "IncidentTickets",
                columns: new[] { "IntegrationId", "ExternalReference" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_IncidentTickets_IntegrationId_IncidentId",
                table: "IncidentTickets",
                columns: new[] { "IntegrationId", "IncidentId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_IncidentTickets_IntegrationId_State",
                table: "IncidentTickets",
                columns: new[] { "IntegrationId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_IncidentTickets_OrganizationId_UpdatedAt",
                table: "IncidentTickets",
                columns: new[] { "OrganizationId", "UpdatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "IncidentTickets");

            migrationBuilder.DropTable(
                name: "TicketingSettings");
        }
    }
}
