use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_assessments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub return_id: String,
    pub persecution: String,
    pub re_trafficking: String,
    pub findings_enc: Vec<u8>,
    pub safety_plan_enc: Option<Vec<u8>>,
    pub assessed_on: Date,
    pub author_user_id: i64,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
