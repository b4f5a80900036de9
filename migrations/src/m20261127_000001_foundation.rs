//! The foundation: organisations, users, sessions, login throttling, persons (encrypted),
//! cases, consents, shares, the reference counter, instance metadata and the hash-chained audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000001_foundation"
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    Name,
    Kind,
    Country,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    OrgId,
    Email,
    DisplayName,
    Role,
    PasswordHash,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    EmailKey,
    Failures,
    WindowStart,
    LockedUntil,
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
    NameEnc,
    NameIdx,
    AliasesEnc,
    BirthDateEnc,
    NationalityEnc,
    Stateless,
    LanguagesEnc,
    ContactEnc,
    LocationEnc,
    NotesEnc,
    IsMinor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    Reference,
    PersonId,
    OwnerOrgId,
    AdvocateUserId,
    Stage,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefCounters {
    Table,
    Year,
    Last,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
    CaseId,
    Purpose,
    GivenBy,
    Language,
    FormVersion,
    ConsentedAt,
    RecordedBy,
    RecordedAt,
    WithdrawnAt,
    WithdrawnBy,
}

#[derive(DeriveIden)]
enum Shares {
    Table,
    Id,
    CaseId,
    OrgId,
    Purpose,
    ConsentId,
    CreatedBy,
    CreatedAt,
    EndedAt,
    EndedBy,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    At,
    UserId,
    OrgId,
    CaseRef,
    Section,
    Action,
    Route,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum InstanceMeta {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organisations::Table)
                .col(big_pk_auto(Organisations::Id))
                .col(string_len_uniq(Organisations::Name, 200))
                .col(string_len(Organisations::Kind, 40))
                .col(string_len(Organisations::Country, 2))
                .col(boolean(Organisations::Active).default(true))
                .col(timestamp_with_time_zone(Organisations::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(big_integer(Users::OrgId))
                .col(string_len_uniq(Users::Email, 254))
                .col(string_len(Users::DisplayName, 200))
                .col(string_len(Users::Role, 40))
                .col(string_len(Users::PasswordHash, 200))
                .col(boolean(Users::Active).default(true))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .foreign_key(&mut fk(
                    Users::Table,
                    Users::OrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(big_pk_auto(Sessions::Id))
                .col(string_len_uniq(Sessions::TokenHash, 64))
                .col(big_integer(Sessions::UserId))
                .col(string_len(Sessions::CsrfToken, 64))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .foreign_key(
                    &mut ForeignKey::create()
                        .from(Sessions::Table, Sessions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginThrottle::Table)
                .col(string_len(LoginThrottle::EmailKey, 64).primary_key())
                .col(integer(LoginThrottle::Failures))
                .col(timestamp_with_time_zone(LoginThrottle::WindowStart))
                .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Persons::Table)
                .col(string_len(Persons::Id, 32).primary_key())
                .col(blob(Persons::NameEnc))
                .col(string_len(Persons::NameIdx, 32))
                .col(blob_null(Persons::AliasesEnc))
                .col(blob_null(Persons::BirthDateEnc))
                .col(blob_null(Persons::NationalityEnc))
                .col(boolean(Persons::Stateless).default(false))
                .col(blob_null(Persons::LanguagesEnc))
                .col(blob_null(Persons::ContactEnc))
                .col(blob_null(Persons::LocationEnc))
                .col(blob_null(Persons::NotesEnc))
                .col(boolean(Persons::IsMinor).default(false))
                .col(timestamp_with_time_zone(Persons::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_persons_name_idx")
                .table(Persons::Table)
                .col(Persons::NameIdx)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Cases::Table)
                .col(big_pk_auto(Cases::Id))
                .col(string_len_uniq(Cases::Reference, 20))
                .col(string_len_uniq(Cases::PersonId, 32))
                .col(big_integer(Cases::OwnerOrgId))
                .col(big_integer_null(Cases::AdvocateUserId))
                .col(string_len(Cases::Stage, 40))
                .col(big_integer(Cases::Version).default(1))
                .col(big_integer(Cases::CreatedBy))
                .col(timestamp_with_time_zone(Cases::CreatedAt))
                .col(timestamp_with_time_zone(Cases::UpdatedAt))
                .foreign_key(&mut fk(
                    Cases::Table,
                    Cases::PersonId,
                    Persons::Table,
                    Persons::Id,
                ))
                .foreign_key(&mut fk(
                    Cases::Table,
                    Cases::OwnerOrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .foreign_key(&mut fk(
                    Cases::Table,
                    Cases::AdvocateUserId,
                    Users::Table,
                    Users::Id,
                ))
                .foreign_key(&mut fk(
                    Cases::Table,
                    Cases::CreatedBy,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_cases_owner_stage")
                .table(Cases::Table)
                .col(Cases::OwnerOrgId)
                .col(Cases::Stage)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_cases_advocate")
                .table(Cases::Table)
                .col(Cases::AdvocateUserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefCounters::Table)
                .col(integer(RefCounters::Year).primary_key())
                .col(big_integer(RefCounters::Last))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Consents::Table)
                .col(big_pk_auto(Consents::Id))
                .col(big_integer(Consents::CaseId))
                .col(string_len(Consents::Purpose, 40))
                .col(string_len(Consents::GivenBy, 40))
                .col(string_len(Consents::Language, 35))
                .col(string_len(Consents::FormVersion, 40))
                .col(timestamp_with_time_zone(Consents::ConsentedAt))
                .col(big_integer(Consents::RecordedBy))
                .col(timestamp_with_time_zone(Consents::RecordedAt))
                .col(timestamp_with_time_zone_null(Consents::WithdrawnAt))
                .col(big_integer_null(Consents::WithdrawnBy))
                .foreign_key(&mut fk(
                    Consents::Table,
                    Consents::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    Consents::Table,
                    Consents::RecordedBy,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Shares::Table)
                .col(big_pk_auto(Shares::Id))
                .col(big_integer(Shares::CaseId))
                .col(big_integer(Shares::OrgId))
                .col(string_len(Shares::Purpose, 40))
                .col(big_integer(Shares::ConsentId))
                .col(big_integer(Shares::CreatedBy))
                .col(timestamp_with_time_zone(Shares::CreatedAt))
                .col(timestamp_with_time_zone_null(Shares::EndedAt))
                .col(big_integer_null(Shares::EndedBy))
                .foreign_key(&mut fk(
                    Shares::Table,
                    Shares::CaseId,
                    Cases::Table,
                    Cases::Id,
                ))
                .foreign_key(&mut fk(
                    Shares::Table,
                    Shares::OrgId,
                    Organisations::Table,
                    Organisations::Id,
                ))
                .foreign_key(&mut fk(
                    Shares::Table,
                    Shares::ConsentId,
                    Consents::Table,
                    Consents::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_shares_org_case")
                .table(Shares::Table)
                .col(Shares::OrgId)
                .col(Shares::CaseId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_integer(AuditLog::Seq).primary_key())
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(big_integer_null(AuditLog::UserId))
                .col(big_integer_null(AuditLog::OrgId))
                .col(string_len_null(AuditLog::CaseRef, 20))
                .col(string_len(AuditLog::Section, 40))
                .col(string_len(AuditLog::Action, 40))
                .col(string_len(AuditLog::Route, 200))
                .col(string_len(AuditLog::PrevHash, 64))
                .col(string_len(AuditLog::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_case_ref")
                .table(AuditLog::Table)
                .col(AuditLog::CaseRef)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(integer(AuditHead::Id).primary_key())
                .col(big_integer(AuditHead::Seq))
                .col(string_len(AuditHead::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(InstanceMeta::Table)
                .col(string_len(InstanceMeta::Key, 64).primary_key())
                .col(string_len(InstanceMeta::Value, 200))
                .to_owned(),
        )
        .await?;
        let genesis = "0".repeat(64);
        m.exec_stmt(
            Query::insert()
                .into_table(AuditHead::Table)
                .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
                .values_panic([1.into(), 0i64.into(), genesis.into()])
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            InstanceMeta::Table.into_iden(),
            AuditHead::Table.into_iden(),
            AuditLog::Table.into_iden(),
            Shares::Table.into_iden(),
            Consents::Table.into_iden(),
            RefCounters::Table.into_iden(),
            Cases::Table.into_iden(),
            Persons::Table.into_iden(),
            LoginThrottle::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
            Organisations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
