use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "interviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: i64,
    pub held_on: Date,
    pub interviewer_user_id: i64,
    pub interviewer_kind: String,
    pub language: String,
    pub interpreter: bool,
    pub mode: String,
    /// The ids of the questions asked, in order (comma-separated; not personal).
    pub question_ids: String,
    /// JSON map question id → answer, encrypted (testimony).
    pub answers_enc: Option<Vec<u8>>,
    pub answered: i32,
    pub jurisdiction: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
