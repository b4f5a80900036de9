//! The reintegration plan's vocabulary (seed §40): what an item is and where it stands.

use super::*;

str_enum!(
    /// What an item of the reintegration plan is (seed §40: training, education, work,
    /// housing, medical and psychosocial support).
    PlanKind, "kind" {
        Training => "training",
        Education => "education",
        Work => "work",
        Housing => "housing",
        Medical => "medical",
        Psychosocial => "psychosocial",
    }
);

str_enum!(
    /// Where an item of the plan stands.
    PlanStatus, "status" {
        Planned => "planned",
        InProgress => "in_progress",
        Done => "done",
        Cancelled => "cancelled",
    }
);
