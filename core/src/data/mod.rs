//! Data leaving the platform for statistics (domain.md, "Data"; issue #14). Pure: no I/O.
//! The export service reads the opted-in cases, builds [`kanon::Record`]s and calls
//! [`kanon::anonymise`]; dashboards across organisations use [`kanon::small_cell`].

pub mod dashboard;
pub mod import;
pub mod kanon;

pub use kanon::{
    Age, Attribute, AttributeReport, CellValue, Config, Country, DEFAULT_K, Export, Gender, Levels,
    MIN_K, Record, Row, SuppressedBy, SuppressionReport, anonymise, small_cell,
};
