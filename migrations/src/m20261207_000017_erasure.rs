//! Erasure and retention (issue 15, point 3). A case whose person's data were erased keeps
//! its row (reference, organisation, stage, dates) with when, by whom and why it was erased
//! (`cases.erased_at`, `erased_by`, `erasure_reason`: `person_request` or
//! `retention_expired`) and whether the organisation kept it for statistics
//! (`erased_keep_statistics`). The statistical record kept in that case
//! (`erased_statistics`) holds only what the k-anonymised export reads, already generalised
//! (the finest age band the export publishes, never the birth date; countries; the
//! exploitation types and means of control; the gender): it is written before the
//! encrypted fields are destroyed, and names no one. See `core/src/erasure.rs`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000017_erasure"
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    ErasedAt,
    ErasedBy,
    ErasureReason,
    ErasedKeepStatistics,
}

#[derive(DeriveIden)]
enum ErasedStatistics {
    Table,
    CaseId,
    AgeFrom,
    AgeTo,
    Citizenship,
    CountryOfExploitation,
    Exploitation,
    MeansOfControl,
    Gender,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(timestamp_with_time_zone_null(Cases::ErasedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(big_integer_null(Cases::ErasedBy))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(string_len_null(Cases::ErasureReason, 32))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(boolean(Cases::ErasedKeepStatistics).default(false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ErasedStatistics::Table)
                .col(big_integer(ErasedStatistics::CaseId).primary_key())
                .col(small_integer_null(ErasedStatistics::AgeFrom))
                .col(small_integer_null(ErasedStatistics::AgeTo))
                .col(string_len_null(ErasedStatistics::Citizenship, 2))
                .col(string_len_null(ErasedStatistics::CountryOfExploitation, 2))
                .col(string_len(ErasedStatistics::Exploitation, 500))
                .col(string_len(ErasedStatistics::MeansOfControl, 500))
                .col(string_len(ErasedStatistics::Gender, 16))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_erased_statistics_case")
                        .from(ErasedStatistics::Table, ErasedStatistics::CaseId)
                        .to(Cases::Table, Cases::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ErasedStatistics::Table).to_owned())
            .await?;
        for col in [
            Cases::ErasedKeepStatistics,
            Cases::ErasureReason,
            Cases::ErasedBy,
            Cases::ErasedAt,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
