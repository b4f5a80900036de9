use sea_orm::entity::prelude::*;

/// A protected person. Every personal field is an AEAD blob bound to
/// ("persons", column, id); `name_idx` is the keyed blind index of the name.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name_enc: Vec<u8>,
    pub name_idx: String,
    pub aliases_enc: Option<Vec<u8>>,
    pub birth_date_enc: Option<Vec<u8>>,
    pub nationality_enc: Option<Vec<u8>>,
    pub stateless: bool,
    pub languages_enc: Option<Vec<u8>>,
    pub contact_enc: Option<Vec<u8>>,
    pub location_enc: Option<Vec<u8>>,
    pub notes_enc: Option<Vec<u8>>,
    pub is_minor: bool,
    /// `data::Gender` as text (female, male, other, unknown), encrypted (migration 000016).
    pub gender_enc: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
