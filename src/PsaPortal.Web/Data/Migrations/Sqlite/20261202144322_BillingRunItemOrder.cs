using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PsaPortal.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class BillingRunItemOrder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_BillingRunItems_RunId_TenantName_VendorProductName_Id",
                table: "BillingRunItems",
                columns: new[] { "RunId", "TenantName", "VendorProductName", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_BillingRunItems_RunId_TenantName_VendorProductName_Id",
                table: "BillingRunItems");
        }
    }
}
