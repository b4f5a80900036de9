//! Funding (issue 11): funds, the organisations a fund is opened to, and each fund's
//! ledger of entries that are never edited.
//!
//! An entry's movement (amounts, origin, purpose, invoice, reasons) is stored whole and
//! encrypted (`movement_enc`, bound to the entry); the columns beside it (kind, amount,
//! category, case, commitment, day) are what the reports add up in SQL, and hold no
//! personal data. The fund row keeps its balances, which every write checks against the
//! entries.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000008_funding"
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Funds {
    Table,
    Id,
    HolderOrgId,
    Name,
    Source,
    Currency,
    ValidFrom,
    ValidUntil,
    ApprovalThreshold,
    LowBalance,
    RulesJson,
    Allocated,
    CommittedUnspent,
    Pending,
    Spent,
    LastEntry,
    Version,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FundOpenings {
    Table,
    FundId,
    OrgId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FundEntries {
    Table,
    Id,
    Uid,
    FundId,
    Kind,
    Amount,
    Category,
    CaseId,
    CommitmentId,
    Status,
    MovementEnc,
    EntryOn,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Funds::Table)
                .col(string_len(Funds::Id, 32).primary_key())
                .col(big_integer(Funds::HolderOrgId))
                .col(string_len(Funds::Name, 200))
                .col(string_len(Funds::Source, 40))
                .col(string_len(Funds::Currency, 3))
                .col(date(Funds::ValidFrom))
                .col(date_null(Funds::ValidUntil))
                .col(big_integer_null(Funds::ApprovalThreshold))
                .col(big_integer_null(Funds::LowBalance))
                .col(text(Funds::RulesJson))
                .col(big_integer(Funds::Allocated).default(0))
                .col(big_integer(Funds::CommittedUnspent).default(0))
                .col(big_integer(Funds::Pending).default(0))
                .col(big_integer(Funds::Spent).default(0))
                .col(big_integer_null(Funds::LastEntry))
                .col(big_integer(Funds::Version))
                .col(big_integer(Funds::CreatedBy))
                .col(timestamp_with_time_zone(Funds::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Funds::Table, Funds::HolderOrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_funds_holder")
                .table(Funds::Table)
                .col(Funds::HolderOrgId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FundOpenings::Table)
                .col(string_len(FundOpenings::FundId, 32))
                .col(big_integer(FundOpenings::OrgId))
                .col(big_integer(FundOpenings::CreatedBy))
                .col(timestamp_with_time_zone(FundOpenings::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(FundOpenings::FundId)
                        .col(FundOpenings::OrgId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FundOpenings::Table, FundOpenings::FundId)
                        .to(Funds::Table, Funds::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FundOpenings::Table, FundOpenings::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FundEntries::Table)
                .col(big_pk_auto(FundEntries::Id))
                .col(string_len_uniq(FundEntries::Uid, 32))
                .col(string_len(FundEntries::FundId, 32))
                .col(string_len(FundEntries::Kind, 20))
                .col(big_integer(FundEntries::Amount))
                .col(string_len_null(FundEntries::Category, 30))
                .col(big_integer_null(FundEntries::CaseId))
                .col(big_integer_null(FundEntries::CommitmentId))
                .col(string_len_null(FundEntries::Status, 20))
                .col(blob(FundEntries::MovementEnc))
                .col(date(FundEntries::EntryOn))
                .col(big_integer(FundEntries::CreatedBy))
                .col(timestamp_with_time_zone(FundEntries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(FundEntries::Table, FundEntries::FundId)
                        .to(Funds::Table, Funds::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_fund_entries_fund", FundEntries::FundId),
            ("idx_fund_entries_case", FundEntries::CaseId),
            ("idx_fund_entries_commitment", FundEntries::CommitmentId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(FundEntries::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            FundEntries::Table.into_iden(),
            FundOpenings::Table.into_iden(),
            Funds::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
