//! Data in and out of the platform (issue 14): `import`, the CSV import of an existing
//! caseload (the file's checks are pure, in `crate::data::import`).

pub mod dashboard;
pub mod htcds;
pub mod import;
pub mod statistics;
