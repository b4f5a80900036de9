//! Follow-up after return (issue 12; seed §31, §37, §40): the visits of the origin-country
//! service, the reintegration assessments with their scores, the reintegration plan, the
//! alerts; and, on a consent, whether alert details reach the destination side. Every free
//! text (visitor, reasons, notes, answers, provider, details, actions) is encrypted; the
//! dates, states, vocabulary values and scores are not (the schedule, the caseloads and
//! the statistics need them, and they name no one).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000012_follow_up"
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    AlertDetails,
}

#[derive(DeriveIden)]
enum FollowUpVisits {
    Table,
    Id,
    CaseId,
    OrgId,
    DueOn,
    Status,
    HappenedOn,
    Mode,
    VisitorEnc,
    ReasonEnc,
    CorrectionNoteEnc,
    Added,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReintegrationAssessments {
    Table,
    Id,
    CaseId,
    OrgId,
    AssessedOn,
    AssessedBy,
    SetId,
    SetVersion,
    AnswersEnc,
    NoteEnc,
    Economic,
    Social,
    Psychosocial,
    Composite,
    ScoresJson,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReintegrationPlanItems {
    Table,
    Id,
    CaseId,
    OrgId,
    Kind,
    ProviderEnc,
    DescriptionEnc,
    Status,
    CommitmentId,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FollowUpAlerts {
    Table,
    Id,
    CaseId,
    OrgId,
    Category,
    Severity,
    Status,
    Automatic,
    Rule,
    DetailsEnc,
    OwnerUserId,
    RaisedBy,
    RaisedAt,
    AcknowledgedBy,
    AcknowledgedAt,
    ClosedBy,
    ClosedAt,
    ActionEnc,
}

fn to_case<T: IntoIden>(table: T, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Cases::Table, Cases::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Consents::Table)
                .add_column(boolean(Consents::AlertDetails).default(false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FollowUpVisits::Table)
                .col(string_len(FollowUpVisits::Id, 32).primary_key())
                .col(big_integer(FollowUpVisits::CaseId))
                .col(big_integer(FollowUpVisits::OrgId))
                .col(date(FollowUpVisits::DueOn))
                .col(string_len(FollowUpVisits::Status, 16))
                .col(date_null(FollowUpVisits::HappenedOn))
                .col(string_len_null(FollowUpVisits::Mode, 16))
                .col(blob_null(FollowUpVisits::VisitorEnc))
                .col(blob_null(FollowUpVisits::ReasonEnc))
                .col(blob_null(FollowUpVisits::CorrectionNoteEnc))
                .col(boolean(FollowUpVisits::Added).default(false))
                .col(big_integer(FollowUpVisits::CreatedBy))
                .col(timestamp_with_time_zone(FollowUpVisits::CreatedAt))
                .col(big_integer_null(FollowUpVisits::UpdatedBy))
                .col(timestamp_with_time_zone_null(FollowUpVisits::UpdatedAt))
                .foreign_key(&mut to_case(FollowUpVisits::Table, FollowUpVisits::CaseId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_follow_up_visits_case")
                .table(FollowUpVisits::Table)
                .col(FollowUpVisits::CaseId)
                .col(FollowUpVisits::DueOn)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_follow_up_visits_org")
                .table(FollowUpVisits::Table)
                .col(FollowUpVisits::OrgId)
                .col(FollowUpVisits::Status)
                .col(FollowUpVisits::DueOn)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReintegrationAssessments::Table)
                .col(string_len(ReintegrationAssessments::Id, 32).primary_key())
                .col(big_integer(ReintegrationAssessments::CaseId))
                .col(big_integer(ReintegrationAssessments::OrgId))
                .col(date(ReintegrationAssessments::AssessedOn))
                .col(big_integer(ReintegrationAssessments::AssessedBy))
                .col(string_len(ReintegrationAssessments::SetId, 64))
                .col(string_len(ReintegrationAssessments::SetVersion, 32))
                .col(blob(ReintegrationAssessments::AnswersEnc))
                .col(blob_null(ReintegrationAssessments::NoteEnc))
                .col(double_null(ReintegrationAssessments::Economic))
                .col(double_null(ReintegrationAssessments::Social))
                .col(double_null(ReintegrationAssessments::Psychosocial))
                .col(double_null(ReintegrationAssessments::Composite))
                .col(text(ReintegrationAssessments::ScoresJson))
                .col(timestamp_with_time_zone(
                    ReintegrationAssessments::CreatedAt,
                ))
                .foreign_key(&mut to_case(
                    ReintegrationAssessments::Table,
                    ReintegrationAssessments::CaseId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_reintegration_assessments_case")
                .table(ReintegrationAssessments::Table)
                .col(ReintegrationAssessments::CaseId)
                .col(ReintegrationAssessments::AssessedOn)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReintegrationPlanItems::Table)
                .col(string_len(ReintegrationPlanItems::Id, 32).primary_key())
                .col(big_integer(ReintegrationPlanItems::CaseId))
                .col(big_integer(ReintegrationPlanItems::OrgId))
                .col(string_len(ReintegrationPlanItems::Kind, 20))
                .col(blob(ReintegrationPlanItems::ProviderEnc))
                .col(blob_null(ReintegrationPlanItems::DescriptionEnc))
                .col(string_len(ReintegrationPlanItems::Status, 16))
                .col(string_len_null(ReintegrationPlanItems::CommitmentId, 64))
                .col(big_integer(ReintegrationPlanItems::Version).default(1))
                .col(big_integer(ReintegrationPlanItems::CreatedBy))
                .col(timestamp_with_time_zone(ReintegrationPlanItems::CreatedAt))
                .col(big_integer_null(ReintegrationPlanItems::UpdatedBy))
                .col(timestamp_with_time_zone_null(
                    ReintegrationPlanItems::UpdatedAt,
                ))
                .foreign_key(&mut to_case(
                    ReintegrationPlanItems::Table,
                    ReintegrationPlanItems::CaseId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_reintegration_plan_items_case")
                .table(ReintegrationPlanItems::Table)
                .col(ReintegrationPlanItems::CaseId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FollowUpAlerts::Table)
                .col(string_len(FollowUpAlerts::Id, 32).primary_key())
                .col(big_integer(FollowUpAlerts::CaseId))
                .col(big_integer(FollowUpAlerts::OrgId))
                .col(string_len(FollowUpAlerts::Category, 40))
                .col(string_len(FollowUpAlerts::Severity, 10))
                .col(string_len(FollowUpAlerts::Status, 16))
                .col(boolean(FollowUpAlerts::Automatic).default(false))
                .col(string_len_null(FollowUpAlerts::Rule, 64))
                .col(blob_null(FollowUpAlerts::DetailsEnc))
                .col(big_integer_null(FollowUpAlerts::OwnerUserId))
                .col(big_integer_null(FollowUpAlerts::RaisedBy))
                .col(timestamp_with_time_zone(FollowUpAlerts::RaisedAt))
                .col(big_integer_null(FollowUpAlerts::AcknowledgedBy))
                .col(timestamp_with_time_zone_null(
                    FollowUpAlerts::AcknowledgedAt,
                ))
                .col(big_integer_null(FollowUpAlerts::ClosedBy))
                .col(timestamp_with_time_zone_null(FollowUpAlerts::ClosedAt))
                .col(blob_null(FollowUpAlerts::ActionEnc))
                .foreign_key(&mut to_case(FollowUpAlerts::Table, FollowUpAlerts::CaseId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_follow_up_alerts_case")
                .table(FollowUpAlerts::Table)
                .col(FollowUpAlerts::CaseId)
                .col(FollowUpAlerts::Status)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            FollowUpAlerts::Table.into_iden(),
            ReintegrationPlanItems::Table.into_iden(),
            ReintegrationAssessments::Table.into_iden(),
            FollowUpVisits::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(Consents::Table)
                .drop_column(Consents::AlertDetails)
                .to_owned(),
        )
        .await
    }
}
