//! Two-factor sign-in (issue 15, point 1): a user's TOTP secret (an AEAD field bound to
//! `users|totp_secret|id`, and the one being enrolled, `users|totp_pending|id`), when it
//! was turned on, and the last time step a code was accepted for (a code is used once);
//! the recovery codes (keyed hashes, single use); whether an organisation requires the
//! second factor of every user; whether a session still waits for its second factor.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000018_two_factor"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    TotpSecretEnc,
    TotpPendingEnc,
    TotpEnabledAt,
    TotpLastStep,
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    RequireTwoFactor,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    SecondFactorPending,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for col in [
            blob_null(Users::TotpSecretEnc),
            blob_null(Users::TotpPendingEnc),
            timestamp_with_time_zone_null(Users::TotpEnabledAt),
            big_integer_null(Users::TotpLastStep),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .add_column(boolean(Organisations::RequireTwoFactor).default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .add_column(boolean(Sessions::SecondFactorPending).default(false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(string_len(RecoveryCodes::CodeHash, 64).primary_key())
                .col(big_integer(RecoveryCodes::UserId))
                .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recovery_codes_user")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .drop_column(Sessions::SecondFactorPending)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .drop_column(Organisations::RequireTwoFactor)
                .to_owned(),
        )
        .await?;
        for col in [
            Users::TotpLastStep,
            Users::TotpEnabledAt,
            Users::TotpPendingEnc,
            Users::TotpSecretEnc,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
