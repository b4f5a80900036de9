use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub reference: String,
    pub person_id: String,
    pub owner_org_id: i64,
    pub advocate_user_id: Option<i64>,
    pub stage: String,
    pub version: i64,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by: Option<i64>,
    /// HTCDS case status on closing: closed or closed_referred.
    pub close_status: Option<String>,
    pub close_reason: Option<String>,
    pub close_note_enc: Option<Vec<u8>>,
    /// When the person's data were erased (migration 000017): the case is then an
    /// anonymous record (`crate::erasure`).
    pub erased_at: Option<DateTimeUtc>,
    pub erased_by: Option<i64>,
    /// `erasure::ErasureReason`: person_request or retention_expired.
    pub erasure_reason: Option<String>,
    /// Whether the erased case still counts in the statistics export (its generalised
    /// record is in `erased_statistics`).
    pub erased_keep_statistics: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
