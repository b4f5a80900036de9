use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shares")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub org_id: i64,
    pub purpose: String,
    pub consent_id: i64,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub ended_by: Option<i64>,
    /// The id the API and the pages use (random hex); `id` stays internal.
    pub uid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
