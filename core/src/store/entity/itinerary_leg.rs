use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "itinerary_legs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub return_id: String,
    pub travel_on: Date,
    pub from_enc: Vec<u8>,
    pub to_enc: Vec<u8>,
    pub escort_enc: Option<Vec<u8>>,
    pub status: String,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    /// The row that replaced this one, when it was changed.
    pub replaced_by: Option<String>,
    /// Why it was changed or cancelled (encrypted).
    pub end_reason_enc: Option<Vec<u8>>,
    pub ended_at: Option<DateTimeUtc>,
    pub ended_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
