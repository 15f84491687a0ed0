using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PsaPortal.Web.Data.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class BillingRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "BillingNotificationSettings",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    EmailRecipients = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    WebhookUrl = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    ProtectedWebhookSecret = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BillingNotificationSettings", x => x.Id);
                    table.ForeignKey(
                        name: "FK_BillingNotificationSettings_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "BillingRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    Vendor = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Mode = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Trigger = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    SourceRunId = table.Column<Guid>(type: "uuid", nullable: true),
                    TenantId = table.Column<long>(type: "bigint", nullable: true),
                    Status = table.Column<string>(type: "character varying(30)", maxLength: 30, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Total = table.Column<int>(type: "integer", nullable: false),
                    Done = table.Column<int>(type: "integer", nullable: false),
                    Synced = table.Column<int>(type: "integer", nullable: false),
                    Unchanged = table.Column<int>(type: "integer", nullable: false),
                    Failed = table.Column<int>(type: "integer", nullable: false),
                    Error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    Resumes = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BillingRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_BillingRuns_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "BillingSchedules",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    Frequency = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    TimeOfDay = table.Column<TimeOnly>(type: "time without time zone", nullable: false),
                    DayOfMonth = table.Column<int>(type: "integer", nullable: false),
                    TimeZone = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BillingSchedules", x => x.Id);
                    table.ForeignKey(
                        name: "FK_BillingSchedules_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "BillingRunItems",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<long>(type: "bigint", nullable: false),
                    TenantName = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    VendorProductId = table.Column<long>(type: "bigint", nullable: false),
                    VendorProductName = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    CompanyPsaId = table.Column<long>(type: "bigint", nullable: true),
                    CompanyName = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    AgreementPsaId = table.Column<long>(type: "bigint", nullable: true),
                    AgreementName = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    PsaProductId = table.Column<long>(type: "bigint", nullable: true),
                    PsaProductName = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    LinePsaId = table.Column<long>(type: "bigint", nullable: true),
                    Previous = table.Column<decimal>(type: "numeric", nullable: true),
                    New = table.Column<decimal>(type: "numeric", nullable: true),
                    Action = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Outcome = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Message = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    DurationMilliseconds = table.Column<int>(type: "integer", nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BillingRunItems", x => x.Id);
                    table.ForeignKey(
                        name: "FK_BillingRunItems_BillingRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "BillingRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "BillingWrites",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    ItemId = table.Column<long>(type: "bigint", nullable: false),
                    Action = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    AgreementPsaId = table.Column<long>(type: "bigint", nullable: false),
                    LinePsaId = table.Column<long>(type: "bigint", nullable: true),
                    PsaProductId = table.Column<long>(type: "bigint", nullable: false),
                    Before = table.Column<decimal>(type: "numeric", nullable: true),
                    After = table.Column<decimal>(type: "numeric", nullable: false),
                    EffectiveDate = table.Column<DateOnly>(type: "date", nullable: true),
                    State = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ResultPsaId = table.Column<long>(type: "bigint", nullable: true),
                    PlannedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    SettledAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BillingWrites", x => x.Id);
                    table.ForeignKey(
                        name: "FK_BillingWrites_BillingRunItems_ItemId",
                        column: x => x.ItemId,
                        principalTable: "BillingRunItems",
                        principalColumn: "Id");
                    table.ForeignKey(
                        name: "FK_BillingWrites_BillingRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "BillingRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_BillingNotificationSettings_IntegrationId",
                table: "BillingNotificationSettings",
                column: "IntegrationId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_BillingRunItems_RunId_Outcome",
                table: "BillingRunItems",
                columns: new[] { "RunId", "Outcome" });

            migrationBuilder.CreateIndex(
                name: "IX_BillingRunItems_RunId_TenantId_VendorProductId",
                table: "BillingRunItems",
                columns: new[] { "RunId", "TenantId", "VendorProductId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_BillingRuns_IntegrationId_CreatedAt",
                table: "BillingRuns",
                columns: new[] { "IntegrationId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_BillingRuns_Status",
                table: "BillingRuns",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_BillingSchedules_IntegrationId",
                table: "BillingSchedules",
                column: "IntegrationId");

            migrationBuilder.CreateIndex(
                name: "IX_BillingWrites_ItemId",
                table: "BillingWrites",
                column: "ItemId");

            migrationBuilder.CreateIndex(
                name: "IX_BillingWrites_RunId_State",
                table: "BillingWrites",
                columns: new[] { "RunId", "State" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "BillingNotificationSettings");

            migrationBuilder.DropTable(
                name: "BillingSchedules");

            migrationBuilder.DropTable(
                name: "BillingWrites");

            migrationBuilder.DropTable(
                name: "BillingRunItems");

            migrationBuilder.DropTable(
                name: "BillingRuns");
        }
    }
}
