use sea_orm::entity::prelude::*;

/// An organisation other than the holder that a fund is opened to: it may request
/// commitments for its own cases, and sees only those.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_openings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub fund_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: i64,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
