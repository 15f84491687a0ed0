using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PsaPortal.Web.Data.Migrations.Sqlite
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
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    IntegrationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    IncidentId = table.Column<long>(type: "INTEGER", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    FailedStep = table.Column<string>(type: "TEXT", maxLength: 20, nullable: true),
                    ExternalReference = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    TicketPsaId = table.Column<long>(type: "INTEGER", nullable: true),
                    TicketNumber = table.Column<string>(type: "TEXT", maxLength: 50, nullable: true),
                    TicketUrl = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    Error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    SyncedIncidentAt = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ClosedAt = table.Column<long>(type: "INTEGER", nullable: true)
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
                    IntegrationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    BoardId = table.Column<long>(type: "INTEGER", nullable: true),
                    BoardName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    DefaultCompanyPsaId = table.Column<long>(type: "INTEGER", nullable: true),
                    DefaultCompanyName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    SourceId = table.Column<long>(type: "INTEGER", nullable: true),
                    SourceName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    ClosedStatusId = table.Column<long>(type: "INTEGER", nullable: true),
                    ClosedStatusName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    QueueId = table.Column<long>(type: "INTEGER", nullable: true),
                    QueueName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    NewStatusId = table.Column<long>(type: "INTEGER", nullable: true),
                    NewStatusName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    UpdatedStatusId = table.Column<long>(type: "INTEGER", nullable: true),
                    UpdatedStatusName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    AutotaskClosedStatusId = table.Column<long>(type: "INTEGER", nullable: true),
                    AutotaskClosedStatusName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    DefaultPriorityId = table.Column<long>(type: "INTEGER", nullable: true),
                    DefaultPriorityName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    LowPriorityId = table.Column<long>(type: "INTEGER", nullable: true),
                    LowPriorityName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    MediumPriorityId = table.Column<long>(type: "INTEGER", nullable: true),
                    MediumPriorityName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    HighPriorityId = table.Column<long>(type: "INTEGER", nullable: true),
                    HighPriorityName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    CriticalPriorityId = table.Column<long>(type: "INTEGER", nullable: true),
                    CriticalPriorityName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
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
