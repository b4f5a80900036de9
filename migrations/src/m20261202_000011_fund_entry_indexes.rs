//! The funding bench (issue 11) on a fund of 100 000 entries: a report took about 200 ms
//! (p99 320 ms) because it read every row of the fund, and each write read the entries
//! after the last one folded through a one-column index. `m20261202_000008_funding` has
//! landed, so the indexes change here:
//! - `idx_fund_entries_report` holds all a report reads (fund, day, kind, status,
//!   category, amount, case), so a report is answered from the index alone;
//! - `idx_fund_entries_fund_id` is `(fund_id, id)`, the order in which a write reads the
//!   entries after the last one folded; it replaces `idx_fund_entries_fund` (`fund_id`
//!   alone), which both new indexes begin with.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000011_fund_entry_indexes"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum FundEntries {
    Table,
    Id,
    FundId,
    EntryOn,
    Kind,
    Status,
    Category,
    Amount,
    CaseId,
}

fn index(name: &str, cols: &[FundEntries]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(FundEntries::Table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

fn drop_index(name: &str) -> IndexDropStatement {
    Index::drop()
        .name(name)
        .table(FundEntries::Table)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use FundEntries::*;
        m.create_index(index(
            "idx_fund_entries_report",
            &[FundId, EntryOn, Kind, Status, Category, Amount, CaseId],
        ))
        .await?;
        m.create_index(index("idx_fund_entries_fund_id", &[FundId, Id]))
            .await?;
        m.drop_index(drop_index("idx_fund_entries_fund")).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use FundEntries::*;
        m.create_index(index("idx_fund_entries_fund", &[FundId]))
            .await?;
        m.drop_index(drop_index("idx_fund_entries_fund_id")).await?;
        m.drop_index(drop_index("idx_fund_entries_report")).await
    }
}
