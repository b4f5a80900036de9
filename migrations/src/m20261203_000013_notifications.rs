//! Notifications (issue 13): one row per person told of an event, written in the
//! transaction of the change; the delivery workers of every node claim the due ones
//! (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL), send them and mark them sent. A
//! reminder made by the scheduler carries a `dedup_key`, unique, so that several nodes
//! create it once. Rows hold the kind, the case's pseudonymous reference, the
//! organisation's name and a link: no personal data of a protected person. Users get a
//! language for their mail and a mark when their address keeps failing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000013_notifications"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Lang,
    MailFailingAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    OrgId,
    Kind,
    CaseRef,
    FromOrg,
    Link,
    Lang,
    Email,
    Delivery,
    MailStatus,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    SentAt,
    LastError,
    ReadAt,
    DedupKey,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len(Users::Lang, 8).default("en"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(timestamp_with_time_zone_null(Users::MailFailingAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(string_len(Notifications::Id, 32).primary_key())
                .col(big_integer(Notifications::UserId))
                .col(big_integer(Notifications::OrgId))
                .col(string_len(Notifications::Kind, 40))
                .col(string_len_null(Notifications::CaseRef, 32))
                .col(string_len(Notifications::FromOrg, 200))
                .col(string_len(Notifications::Link, 300))
                .col(string_len(Notifications::Lang, 8))
                .col(string_len(Notifications::Email, 320))
                .col(string_len(Notifications::Delivery, 16))
                .col(string_len(Notifications::MailStatus, 16))
                .col(integer(Notifications::Attempts).default(0))
                .col(timestamp_with_time_zone(Notifications::NextAttemptAt))
                .col(string_len_null(Notifications::LeaseOwner, 64))
                .col(timestamp_with_time_zone_null(Notifications::LeaseUntil))
                .col(timestamp_with_time_zone_null(Notifications::SentAt))
                .col(string_len_null(Notifications::LastError, 300))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .col(string_len_null(Notifications::DedupKey, 160).unique_key())
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notifications_due")
                .table(Notifications::Table)
                .col(Notifications::MailStatus)
                .col(Notifications::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notifications_user")
                .table(Notifications::Table)
                .col(Notifications::UserId)
                .col(Notifications::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await?;
        for c in [Users::MailFailingAt.into_iden(), Users::Lang.into_iden()] {
            m.alter_table(Table::alter().table(Users::Table).drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
