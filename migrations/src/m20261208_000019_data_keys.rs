//! Envelope encryption and key rotation (issue 15, point 4): the data keys (one current
//! key per organisation, and the deployment's own), each kept only wrapped by a master
//! key, once per master key that wraps it (a rotation adds the new master's wrapping
//! beside the old one, so that nodes on either key keep working); and the re-encryption
//! job that moves every field off retired keys, with its cursor (resumable) and progress.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000019_data_keys"
    }
}

#[derive(DeriveIden)]
enum DataKeys {
    Table,
    Id,
    OrganisationId,
    CreatedAt,
    ActiveFrom,
    RetiredAt,
}

#[derive(DeriveIden)]
enum DataKeyWraps {
    Table,
    KeyId,
    MasterId,
    Wrapped,
    CreatedAt,
}

#[derive(DeriveIden)]
enum KeyJobs {
    Table,
    Id,
    State,
    Pass,
    TableIndex,
    Cursor,
    Done,
    Total,
    Resealed,
    LeaseOwner,
    LeaseUntil,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DataKeys::Table)
                .col(big_integer(DataKeys::Id).primary_key())
                .col(big_integer_null(DataKeys::OrganisationId))
                .col(timestamp_with_time_zone(DataKeys::CreatedAt))
                .col(timestamp_with_time_zone(DataKeys::ActiveFrom))
                .col(timestamp_with_time_zone_null(DataKeys::RetiredAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DataKeyWraps::Table)
                .col(big_integer(DataKeyWraps::KeyId))
                .col(string_len(DataKeyWraps::MasterId, 16))
                .col(blob(DataKeyWraps::Wrapped))
                .col(timestamp_with_time_zone(DataKeyWraps::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(DataKeyWraps::KeyId)
                        .col(DataKeyWraps::MasterId),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(KeyJobs::Table)
                .col(string_len(KeyJobs::Id, 32).primary_key())
                .col(string_len(KeyJobs::State, 16))
                .col(integer(KeyJobs::Pass))
                .col(integer(KeyJobs::TableIndex))
                .col(text_null(KeyJobs::Cursor))
                .col(big_integer(KeyJobs::Done))
                .col(big_integer(KeyJobs::Total))
                .col(big_integer(KeyJobs::Resealed))
                .col(string_len_null(KeyJobs::LeaseOwner, 100))
                .col(timestamp_with_time_zone_null(KeyJobs::LeaseUntil))
                .col(timestamp_with_time_zone(KeyJobs::CreatedAt))
                .col(timestamp_with_time_zone_null(KeyJobs::FinishedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(KeyJobs::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DataKeyWraps::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DataKeys::Table).to_owned())
            .await
    }
}
