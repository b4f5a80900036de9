use sea_orm::entity::prelude::*;

/// A follow-up visit of the origin-country service (issue 12).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follow_up_visits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: i64,
    /// The organisation that makes the visit (the one the case was handed over to).
    pub org_id: i64,
    pub due_on: Date,
    /// planned, done, missed or cancelled.
    pub status: String,
    /// When it took place or was missed.
    pub happened_on: Option<Date>,
    /// in_person, phone or video (done only).
    pub mode: Option<String>,
    /// Who made the visit (encrypted).
    pub visitor_enc: Option<Vec<u8>>,
    /// Why it was missed or cancelled (encrypted).
    pub reason_enc: Option<Vec<u8>>,
    /// The note of the last correction (encrypted).
    pub correction_note_enc: Option<Vec<u8>>,
    /// Added to the schedule after arrival (not from the jurisdiction's schedule).
    pub added: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_by: Option<i64>,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
