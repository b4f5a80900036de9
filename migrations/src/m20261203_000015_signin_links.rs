//! Sign-in links by e-mail (issue 13): invitations and "forgot password". A token is
//! random, stored only as its SHA-256, single use, valid 30 minutes. The mail carrying it
//! goes through the outbox like every notification, with the link encrypted in
//! `notifications.secret_enc` (the row never holds a usable link in clear).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000015_signin_links"
    }
}

#[derive(DeriveIden)]
enum SigninTokens {
    Table,
    TokenHash,
    UserId,
    Purpose,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    SecretEnc,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SigninTokens::Table)
                .col(string_len(SigninTokens::TokenHash, 64).primary_key())
                .col(big_integer(SigninTokens::UserId))
                .col(string_len(SigninTokens::Purpose, 16))
                .col(timestamp_with_time_zone(SigninTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(SigninTokens::UsedAt))
                .col(timestamp_with_time_zone(SigninTokens::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .add_column(blob_null(Notifications::SecretEnc))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .drop_column(Notifications::SecretEnc)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(SigninTokens::Table).to_owned())
            .await
    }
}
