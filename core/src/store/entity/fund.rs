use sea_orm::entity::prelude::*;

/// A fund: who holds it, its source and currency, its rules (JSON of
/// `funding::FundRules`), and its balances as the entries leave them (checked on every
/// write).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "funds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub holder_org_id: i64,
    pub name: String,
    pub source: String,
    pub currency: String,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub approval_threshold: Option<i64>,
    /// Below this available amount the fund is flagged (and, later, notified).
    pub low_balance: Option<i64>,
    pub rules_json: String,
    pub allocated: i64,
    pub committed_unspent: i64,
    pub pending: i64,
    pub spent: i64,
    /// The id of the fund's last entry.
    pub last_entry: Option<i64>,
    pub version: i64,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
