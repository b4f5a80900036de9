use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proceedings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: i64,
    pub status: String,
    pub court_enc: Vec<u8>,
    pub jurisdiction_enc: Vec<u8>,
    pub case_number_enc: Vec<u8>,
    pub charges: String,
    pub person_role: String,
    pub prosecutor_enc: Option<Vec<u8>>,
    pub investigator_enc: Option<Vec<u8>>,
    pub cooperation_required: Option<bool>,
    pub cooperation_decided_by_enc: Option<Vec<u8>>,
    pub cooperation_decided_on: Option<Date>,
    pub advocate_at_first_interview: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by: Option<i64>,
    /// Why it was closed (encrypted).
    pub close_reason_enc: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
