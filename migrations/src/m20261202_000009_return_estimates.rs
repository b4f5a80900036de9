//! What a return is expected to cost (issue 11, point 3): one row per estimate, never
//! edited; a new estimate of the same category replaces the old one on the page and
//! keeps it in the history. The note (who quoted it, what it covers) is encrypted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000009_return_estimates"
    }
}

#[derive(DeriveIden)]
enum Returns {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ReturnEstimates {
    Table,
    Id,
    ReturnId,
    Category,
    Amount,
    Currency,
    NoteEnc,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReturnEstimates::Table)
                .col(string_len(ReturnEstimates::Id, 32).primary_key())
                .col(string_len(ReturnEstimates::ReturnId, 32))
                .col(string_len(ReturnEstimates::Category, 30))
                .col(big_integer(ReturnEstimates::Amount))
                .col(string_len(ReturnEstimates::Currency, 3))
                .col(blob_null(ReturnEstimates::NoteEnc))
                .col(big_integer(ReturnEstimates::CreatedBy))
                .col(timestamp_with_time_zone(ReturnEstimates::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReturnEstimates::Table, ReturnEstimates::ReturnId)
                        .to(Returns::Table, Returns::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_return_estimates_return")
                .table(ReturnEstimates::Table)
                .col(ReturnEstimates::ReturnId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReturnEstimates::Table).to_owned())
            .await
    }
}
