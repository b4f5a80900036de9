//! Closed cases leave the caseloads (`closed_at IS NULL`, issue 16). With the caseload
//! indexes of `m20261127_000003` the database had to read every case of the advocate or
//! organisation to test `closed_at`, and the count was no longer answered from the index:
//! the caseload use case fell from 62 % to 32 % of the raw floor in the caseload bench.
//! These indexes put `closed_at` between the filter and the order, so the open cases are
//! one range of the index, read in order, and counted from it. The older indexes stay for
//! `stage=closed` and for the other queries that use them.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000010_open_caseload_indexes"
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    OwnerOrgId,
    AdvocateUserId,
    ClosedAt,
    UpdatedAt,
}

/// `(filter column, closed_at, updated_at DESC, id DESC)`.
fn open_by_activity(name: &str, filter: Cases) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(Cases::Table)
        .col(filter)
        .col(Cases::ClosedAt)
        .col((Cases::UpdatedAt, IndexOrder::Desc))
        .col((Cases::Id, IndexOrder::Desc))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(open_by_activity(
            "idx_cases_advocate_open",
            Cases::AdvocateUserId,
        ))
        .await?;
        m.create_index(open_by_activity("idx_cases_owner_open", Cases::OwnerOrgId))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_cases_owner_open", "idx_cases_advocate_open"] {
            m.drop_index(Index::drop().name(name).table(Cases::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
