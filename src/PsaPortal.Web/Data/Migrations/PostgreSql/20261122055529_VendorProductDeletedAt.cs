using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PsaPortal.Web.Data.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class VendorProductDeletedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "DeletedAt",
                table: "VendorProducts",
                type: "timestamp with time zone",
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
