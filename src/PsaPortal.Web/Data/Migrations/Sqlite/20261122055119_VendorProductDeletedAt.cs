using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PsaPortal.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class VendorProductDeletedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "DeletedAt",
                table: "VendorProducts",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "DeletedAt",
                table: "VendorProducts");
        }
    }
}
