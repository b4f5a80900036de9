//! Why a record of the legal track or a consent ended (issue 17, "no one-click harm").
//!
//! - **A cancelled hearing says why and who cancelled it** (`cancel_reason_enc`,
//!   `cancelled_by`): cancelling one clears its conflict with the planned departure
//!   everywhere, so the record keeps the reason beside the date.
//! - **A closed proceeding says why** (`close_reason_enc`; who and when were already kept).
//! - **A withdrawn consent may say why** (`withdraw_reason_enc`): the person never has to
//!   give a reason, but when they do (or say how they withdrew), it is kept.
//!
//! Reasons are free text and may name people: they are AEAD fields like the other notes
//! of these tables, bound to their table, column and row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000007_reasons"
    }
}

#[derive(DeriveIden)]
enum Hearings {
    Table,
    CancelReasonEnc,
    CancelledBy,
}

#[derive(DeriveIden)]
enum Proceedings {
    Table,
    CloseReasonEnc,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    WithdrawReasonEnc,
}

/// One column at a time: SQLite's ALTER TABLE takes one change per statement.
async fn add(m: &SchemaManager<'_>, table: impl IntoIden, col: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(
        Table::alter()
            .table(table)
            .add_column(col.to_owned())
            .to_owned(),
    )
    .await
}

async fn drop(
    m: &SchemaManager<'_>,
    table: impl IntoIden,
    col: impl IntoIden,
) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).drop_column(col).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(m, Hearings::Table, blob_null(Hearings::CancelReasonEnc)).await?;
        add(m, Hearings::Table, big_integer_null(Hearings::CancelledBy)).await?;
        add(
            m,
            Proceedings::Table,
            blob_null(Proceedings::CloseReasonEnc),
        )
        .await?;
        add(m, Consents::Table, blob_null(Consents::WithdrawReasonEnc)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, Consents::Table, Consents::WithdrawReasonEnc).await?;
        drop(m, Proceedings::Table, Proceedings::CloseReasonEnc).await?;
        drop(m, Hearings::Table, Hearings::CancelledBy).await?;
        drop(m, Hearings::Table, Hearings::CancelReasonEnc).await?;
        Ok(())
    }
}
