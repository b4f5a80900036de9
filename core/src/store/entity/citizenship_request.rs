use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "citizenship_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub return_id: String,
    pub authority: String,
    pub sent_on: Date,
    pub due_on: Date,
    pub reminders: i32,
    pub last_reminder_on: Option<Date>,
    pub answer: String,
    pub answered_on: Option<Date>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
