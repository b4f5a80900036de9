use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "measure_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: i64,
    pub proceeding_id: String,
    pub hearing_id: Option<String>,
    pub measure_id: String,
    pub replaces_presence: bool,
    pub status: String,
    pub requested_on: Date,
    pub requested_by: i64,
    pub decided_on: Option<Date>,
    pub decided_by: Option<i64>,
    pub reason_enc: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Who decided (a deciding body of the catalogue: court, prosecution, ...).
    pub authority: Option<String>,
    /// The decision's reference, e.g. an order number (encrypted).
    pub decision_ref_enc: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
