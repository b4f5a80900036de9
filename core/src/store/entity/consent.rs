use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub purpose: String,
    pub given_by: String,
    pub language: String,
    pub form_version: String,
    pub consented_at: DateTimeUtc,
    pub recorded_by: i64,
    pub recorded_at: DateTimeUtc,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<i64>,
    /// Why or how it was withdrawn, when the person said (encrypted).
    pub withdraw_reason_enc: Option<Vec<u8>>,
    /// The id the API and the pages use (random hex); `id` stays internal.
    pub uid: Option<String>,
    /// For a reintegration consent: the destination side may read the details of alerts
    /// (by default it sees only their category and severity).
    pub alert_details: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
