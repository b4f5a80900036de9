use sea_orm::entity::prelude::*;

/// An item of the reintegration plan (seed §40; issue 12).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reintegration_plan_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: i64,
    pub org_id: i64,
    /// training, education, work, housing, medical or psychosocial.
    pub kind: String,
    /// Who provides it (encrypted: a provider can say where the person lives).
    pub provider_enc: Vec<u8>,
    pub description_enc: Option<Vec<u8>>,
    /// planned, in_progress, done or cancelled.
    pub status: String,
    /// The funding commitment that pays for it (a ledger entry id), if any.
    pub commitment_id: Option<String>,
    pub version: i64,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_by: Option<i64>,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
