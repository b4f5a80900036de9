use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "returns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: i64,
    pub stage: String,
    pub stage_since: DateTimeUtc,
    pub consent_id: i64,
    pub explained_by_enc: Vec<u8>,
    pub requested_by: String,
    pub requested_on: Date,
    pub during_recovery_period: bool,
    pub destination_country: String,
    pub agency_org_id: Option<i64>,
    pub partner_payload_enc: Option<Vec<u8>>,
    pub guardian_enc: Option<Vec<u8>>,
    pub best_interests_on: Option<Date>,
    pub best_interests_by_enc: Option<Vec<u8>>,
    pub counselled_on: Option<Date>,
    pub counselled_by_enc: Option<Vec<u8>>,
    pub receiving_org_id: Option<i64>,
    pub reception_on: Option<Date>,
    pub departed_on: Option<Date>,
    pub received_on: Option<Date>,
    pub handover_referral_id: Option<i64>,
    pub cancelled_reason_enc: Option<Vec<u8>>,
    pub version: i64,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    /// Why the person departed before the booked travel date (encrypted).
    pub early_departure_reason_enc: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
