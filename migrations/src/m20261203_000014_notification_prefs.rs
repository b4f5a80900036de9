//! Notification preferences (issue 13): per person and kind of event, immediately, in a
//! daily digest, or off; an organisation administrator sets the organisation's defaults
//! (`scope` "org"), a person their own (`scope` "user"). A digest is a notification of its
//! own that the ones it gathers point at (`digest_id`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000014_notification_prefs"
    }
}

#[derive(DeriveIden)]
enum NotificationPrefs {
    Table,
    Scope,
    ScopeId,
    Kind,
    Delivery,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    DigestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(NotificationPrefs::Table)
                .col(string_len(NotificationPrefs::Scope, 8))
                .col(big_integer(NotificationPrefs::ScopeId))
                .col(string_len(NotificationPrefs::Kind, 40))
                .col(string_len(NotificationPrefs::Delivery, 16))
                .col(timestamp_with_time_zone(NotificationPrefs::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(NotificationPrefs::Scope)
                        .col(NotificationPrefs::ScopeId)
                        .col(NotificationPrefs::Kind),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .add_column(string_len_null(Notifications::DigestId, 32))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .drop_column(Notifications::DigestId)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(NotificationPrefs::Table).to_owned())
            .await
    }
}
