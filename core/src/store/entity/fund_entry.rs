use sea_orm::entity::prelude::*;

/// One ledger entry, never edited. `movement_enc` is the whole `funding::Movement`
/// (encrypted: origins, purposes, invoices and reasons are free text); the other columns
/// are what reports add up.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub uid: String,
    pub fund_id: String,
    pub kind: String,
    /// The amount it moves (a correction: its signed delta; approvals and refusals: 0).
    pub amount: i64,
    pub category: Option<String>,
    pub case_id: Option<i64>,
    /// The commitment it acts on (spending, release, approval, refusal, or a correction
    /// of a commitment or a spending's commitment).
    pub commitment_id: Option<i64>,
    pub status: Option<String>,
    pub movement_enc: Vec<u8>,
    pub entry_on: Date,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
