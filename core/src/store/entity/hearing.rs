use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hearings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub proceeding_id: String,
    pub case_id: i64,
    pub kind: String,
    pub held_on: Date,
    pub testimony_required: bool,
    pub presence_required: bool,
    pub notes_enc: Option<Vec<u8>>,
    pub cancelled_at: Option<DateTimeUtc>,
    /// Why it was cancelled (encrypted).
    pub cancel_reason_enc: Option<Vec<u8>>,
    pub cancelled_by: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
