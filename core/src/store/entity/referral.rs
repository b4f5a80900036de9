use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub from_org_id: i64,
    pub to_org_id: i64,
    pub service: String,
    /// Comma-separated sections the receiver may see once it accepts.
    pub sections: String,
    pub consent_id: i64,
    pub status: String,
    pub reason_enc: Option<Vec<u8>>,
    pub partner_payload: Option<String>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub answered_by: Option<i64>,
    pub answered_at: Option<DateTimeUtc>,
    /// The id the API and the pages use (random hex); `id` stays internal.
    pub uid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
