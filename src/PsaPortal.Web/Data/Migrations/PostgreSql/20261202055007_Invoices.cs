using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PsaPortal.Web.Data.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Invoices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ChargeEndDateRules",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    ChargeType = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Rule = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChargeEndDateRules", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ChargeEndDateRules_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ChargeStartDateRules",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    BillingCycle = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Rule = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChargeStartDateRules", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ChargeStartDateRules_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ChargeTypeNames",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    ChargeType = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChargeTypeNames", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ChargeTypeNames_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "InvoiceExports",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    Trigger = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Status = table.Column<string>(type: "character varying(30)", maxLength: 30, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ProductsCreated = table.Column<int>(type: "integer", nullable: false),
                    ProductsUpdated = table.Column<int>(type: "integer", nullable: false),
                    ProductsUnchanged = table.Column<int>(type: "integer", nullable: false),
                    ProductsFailed = table.Column<int>(type: "integer", nullable: false),
                    DocumentsUploaded = table.Column<int>(type: "integer", nullable: false),
                    DocumentsFailed = table.Column<int>(type: "integer", nullable: false),
                    Error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InvoiceExports", x => x.Id);
                    table.ForeignKey(
                        name: "FK_InvoiceExports_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "InvoiceLineSyncs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    InvoiceLineId = table.Column<long>(type: "bigint", nullable: false),
                    StartDateOverride = table.Column<DateOnly>(type: "date", nullable: true),
                    EndDateOverride = table.Column<DateOnly>(type: "date", nullable: true),
                    OverriddenBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    OverriddenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    State = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    AgreementPsaId = table.Column<long>(type: "bigint", nullable: true),
                    PsaProductId = table.Column<long>(type: "bigint", nullable: true),
                    AdditionPsaId = table.Column<long>(type: "bigint", nullable: true),
                    PostedStartDate = table.Column<DateOnly>(type: "date", nullable: true),
                    PostedEndDate = table.Column<DateOnly>(type: "date", nullable: true),
                    PostedChargeTypeName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Message = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    PostedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InvoiceLineSyncs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_InvoiceLineSyncs_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_InvoiceLineSyncs_InvoiceLines_InvoiceLineId",
                        column: x => x.InvoiceLineId,
                        principalTable: "InvoiceLines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "InvoiceSettings",
                columns: table => new
                {
                    IntegrationId = table.Column<Guid>(type: "uuid", nullable: false),
                    AgreementTypeId = table.Column<long>(type: "bigint", nullable: true),
                    AgreementTypeName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    DailySyncEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    ExportProducts = table.Column<bool>(type: "boolean", nullable: false),
                    ExportQuantities = table.Column<bool>(type: "boolean", nullable: false),
                    ExportCost = table.Column<bool>(type: "boolean", nullable: false),
                    ExportRetailPrice = table.Column<bool>(type: "boolean", nullable: false),
                    ExportUsersList = table.Column<bool>(type: "boolean", nullable: false),
                    NotificationContacts = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    ExportFrequency = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ExportDayOfMonth = table.Column<int>(type: "integer", nullable: false),
                    ExportTimeOfDay = table.Column<TimeOnly>(type: "time without time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InvoiceSettings", x => x.IntegrationId);
                    table.ForeignKey(
                        name: "FK_InvoiceSettings_Integrations_IntegrationId",
                        column: x => x.IntegrationId,
                        principalTable: "Integrations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "InvoiceExportLog",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ExportId = table.Column<Guid>(type: "uuid", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Level = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Subject = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Message = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    PsaId = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InvoiceExportLog", x => x.Id);
                    table.ForeignKey(
                        name: "FK_InvoiceExportLog_InvoiceExports_ExportId",
                        column: x => x.ExportId,
                        principalTable: "InvoiceExports",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ChargeEndDateRules_IntegrationId_ChargeType",
                table: "ChargeEndDateRules",
                columns: new[] { "IntegrationId", "ChargeType" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ChargeStartDateRules_IntegrationId_BillingCycle",
                table: "ChargeStartDateRules",
                columns: new[] { "IntegrationId", "BillingCycle" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ChargeTypeNames_IntegrationId_ChargeType",
                table: "ChargeTypeNames",
                columns: new[] { "IntegrationId", "ChargeType" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_InvoiceExportLog_ExportId_Id",
                table: "InvoiceExportLog",
                columns: new[] { "ExportId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_InvoiceExports_IntegrationId_CreatedAt",
                table: "InvoiceExports",
                columns: new[] { "IntegrationId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_InvoiceExports_Status",
                table: "InvoiceExports",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_InvoiceLineSyncs_IntegrationId_InvoiceLineId",
                table: "InvoiceLineSyncs",
                columns: new[] { "IntegrationId", "InvoiceLineId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_InvoiceLineSyncs_IntegrationId_State",
                table: "InvoiceLineSyncs",
                columns: new[] { "IntegrationId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_InvoiceLineSyncs_InvoiceLineId",
                table: "InvoiceLineSyncs",
                column: "InvoiceLineId");

            migrationBuilder.CreateIndex(
                name: "IX_InvoiceLineSyncs_OrganizationId",
                table: "InvoiceLineSyncs",
                column: "OrganizationId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ChargeEndDateRules");

            migrationBuilder.DropTable(
                name: "ChargeStartDateRules");

            migrationBuilder.DropTable(
                name: "ChargeTypeNames");

            migrationBuilder.DropTable(
                name: "InvoiceExportLog");

            migrationBuilder.DropTable(
                name: "InvoiceLineSyncs");

            migrationBuilder.DropTable(
                name: "InvoiceSettings");

            migrationBuilder.DropTable(
                name: "InvoiceExports");
        }
    }
}
