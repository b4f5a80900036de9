use sea_orm::entity::prelude::*;

/// What a return is expected to cost in one category (travel, escort, documents). Never
/// edited: the newest row of a category is the estimate, the older ones its history.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "return_estimates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub return_id: String,
    pub category: String,
    pub amount: i64,
    pub currency: String,
    pub note_enc: Option<Vec<u8>>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
