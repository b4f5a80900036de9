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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
