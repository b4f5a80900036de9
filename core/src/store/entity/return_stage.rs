use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "return_stages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub return_id: String,
    pub stage: String,
    pub at: DateTimeUtc,
    pub by_user: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
