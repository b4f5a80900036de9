//! Exports (issue 14, points 2 and 3): the person's gender (an AEAD field like the other
//! personal fields, bound to `persons|gender|id`), an organisation's consent to be counted
//! in the k-anonymised statistics export (`organisations.statistics_opt_in`, off until its
//! administrator turns it on), and the time a session was last re-authenticated with the
//! password (`sessions.reauth_at`: the HTCDS export of personal data needs one within the
//! last five minutes). The country of exploitation is a field of the encrypted elements
//! JSON (`case_elements.elements_enc`), so it needs no column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000016_exports"
    }
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    GenderEnc,
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    StatisticsOptIn,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ReauthAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        m.alter_table(
            Table::alter()
                .table(Persons::Table)
                .add_column(blob_null(Persons::GenderEnc))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .add_column(boolean(Organisations::StatisticsOptIn).default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .add_column(timestamp_with_time_zone_null(Sessions::ReauthAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .drop_column(Sessions::ReauthAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .drop_column(Organisations::StatisticsOptIn)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Persons::Table)
                .drop_column(Persons::GenderEnc)
                .to_owned(),
        )
        .await
    }
}
