use sea_orm::entity::prelude::*;

/// A reintegration assessment: answers and note encrypted, scores in clear (issue 12).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reintegration_assessments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: i64,
    pub org_id: i64,
    pub assessed_on: Date,
    pub assessed_by: i64,
    pub set_id: String,
    pub set_version: String,
    /// The answers, as JSON (encrypted).
    pub answers_enc: Vec<u8>,
    pub note_enc: Option<Vec<u8>>,
    pub economic: Option<f64>,
    pub social: Option<f64>,
    pub psychosocial: Option<f64>,
    pub composite: Option<f64>,
    /// The whole `follow_up::Scores` (coverage included), as JSON.
    pub scores_json: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
