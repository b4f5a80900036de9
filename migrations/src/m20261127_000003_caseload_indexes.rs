//! Caseload indexes: the caseload lists an advocate's cases ("mine") or an organisation's
//! cases ("organisation") newest activity first (`ORDER BY updated_at DESC, id DESC`) one
//! page at a time. With an index on the filter column alone the database reads every
//! matching case and sorts them to return 50; with the order in the index it reads the
//! page's rows in order and stops. `idx_cases_advocate (advocate_user_id)` is a prefix of
//! the new advocate index and is dropped (restored by `down`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000003_caseload_indexes"
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    OwnerOrgId,
    AdvocateUserId,
    UpdatedAt,
}

/// `(filter column, updated_at DESC, id DESC)`: the caseload's filter and order.
fn by_activity(name: &str, filter: Cases) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(Cases::Table)
        .col(filter)
        .col((Cases::UpdatedAt, IndexOrder::Desc))
        .col((Cases::Id, IndexOrder::Desc))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(by_activity(
            "idx_cases_advocate_activity",
            Cases::AdvocateUserId,
        ))
        .await?;
        m.create_index(by_activity("idx_cases_owner_activity", Cases::OwnerOrgId))
            .await?;
        m.drop_index(
            Index::drop()
                .name("idx_cases_advocate")
                .table(Cases::Table)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_cases_advocate")
                .table(Cases::Table)
                .col(Cases::AdvocateUserId)
                .to_owned(),
        )
        .await?;
        for name in ["idx_cases_owner_activity", "idx_cases_advocate_activity"] {
            m.drop_index(Index::drop().name(name).table(Cases::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
