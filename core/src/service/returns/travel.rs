//! Travel: documents, itinerary legs (the first booked leg is the planned departure),
//! the pre-departure counselling and the reception on arrival.

use super::*;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct DocumentInput {
    /// passport, laissez_passer or stateless_travel_document.
    pub kind: String,
    pub issued_by: String,
    #[serde(default)]
    pub number: Option<String>,
    pub valid_until: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct LegInput {
    pub travel_on: String,
    pub from: String,
    pub to: String,
    /// Who escorts the person on this leg.
    #[serde(default)]
    pub escort: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CounsellingInput {
    #[serde(default)]
    pub counselled_on: Option<String>,
    pub counselled_by: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReceptionInput {
    /// The origin-country organisation that receives the person.
    pub receiving_org_id: i64,
    pub reception_on: String,
}

/// Why a leg or a document is changed or cancelled (kept with its history).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct EndInput {
    pub reason: String,
}

/// A leg that replaces a booked one: the new leg, and why it changed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct LegChangeInput {
    pub travel_on: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub escort: Option<String>,
    pub reason: String,
}

/// A document that replaces a valid one: the new document, and why it changed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct DocumentChangeInput {
    pub kind: String,
    pub issued_by: String,
    #[serde(default)]
    pub number: Option<String>,
    pub valid_until: String,
    pub reason: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub kind: DocumentKind,
    pub issued_by: String,
    pub number: Option<String>,
    pub valid_until: NaiveDate,
    /// valid, changed (replaced by `replaced_by`) or cancelled.
    pub status: String,
    pub replaced_by: Option<String>,
    /// Why it was changed or cancelled.
    pub end_reason: Option<String>,
    pub ended_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LegView {
    pub id: String,
    pub travel_on: NaiveDate,
    pub from: String,
    pub to: String,
    pub escort: Option<String>,
    /// booked; changed (replaced by `replaced_by`), cancelled, or released (when the
    /// return was cancelled).
    pub status: String,
    pub replaced_by: Option<String>,
    /// Why it was changed or cancelled.
    pub end_reason: Option<String>,
    pub ended_at: Option<chrono::DateTime<Utc>>,
}

struct NewDocument {
    kind: DocumentKind,
    issued_by: String,
    number: Option<String>,
    valid_until: NaiveDate,
}

fn parse_document(
    kind: &str,
    issued_by: &str,
    number: Option<&str>,
    valid_until: &str,
) -> Result<NewDocument, Invalid> {
    let valid_until = day("valid_until", valid_until)?;
    if valid_until < Utc::now().date_naive() {
        return Err(Invalid::new("valid_until", "the document has expired"));
    }
    Ok(NewDocument {
        kind: DocumentKind::parse(kind)?,
        issued_by: domain::parse_line("issued_by", issued_by, 300)?,
        number: domain::parse_optional_text("number", number, 100)?,
        valid_until,
    })
}

struct NewLeg {
    travel_on: NaiveDate,
    from: String,
    to: String,
    escort: Option<String>,
}

fn parse_leg(
    travel_on: &str,
    from: &str,
    to: &str,
    escort: Option<&str>,
) -> Result<NewLeg, Invalid> {
    let travel_on = day("travel_on", travel_on)?;
    if travel_on < Utc::now().date_naive() {
        return Err(Invalid::new("travel_on", "cannot be in the past"));
    }
    Ok(NewLeg {
        travel_on,
        from: domain::parse_line("from", from, 200)?,
        to: domain::parse_line("to", to, 200)?,
        escort: domain::parse_optional_text("escort", escort, 300)?,
    })
}

fn reason(s: &str) -> Result<String, Invalid> {
    domain::parse_optional_text("reason", Some(s), 2_000)?
        .ok_or_else(|| Invalid::new("reason", "is required: say why it changes"))
}

/// Legs and documents can be changed or cancelled until the person departs.
fn require_before_departure(l: &Loaded) -> Result<()> {
    Services::require_open(l)?;
    if l.r.stage == ReturnStage::Departed.as_str() {
        return Err(ServiceError::Conflict(
            "the person has already departed: the itinerary and documents can no longer be changed"
                .into(),
        ));
    }
    Ok(())
}

impl Services {
    pub(super) fn document_view(&self, d: &travel_document::Model) -> Result<DocumentView> {
        Ok(DocumentView {
            id: d.id.clone(),
            kind: DocumentKind::parse(&d.kind)?,
            issued_by: d.issued_by.clone(),
            number: self.open_opt("travel_documents", "number", &d.id, d.number_enc.as_ref())?,
            valid_until: d.valid_until,
            status: d.status.clone(),
            replaced_by: d.replaced_by.clone(),
            end_reason: self.open_opt(
                "travel_documents",
                "end_reason",
                &d.id,
                d.end_reason_enc.as_ref(),
            )?,
            ended_at: d.ended_at,
        })
    }

    pub(super) fn leg_view(&self, g: &itinerary_leg::Model) -> Result<LegView> {
        Ok(LegView {
            id: g.id.clone(),
            travel_on: g.travel_on,
            from: self
                .keys
                .decrypt_string(at("itinerary_legs", "from", &g.id), &g.from_enc)?,
            to: self
                .keys
                .decrypt_string(at("itinerary_legs", "to", &g.id), &g.to_enc)?,
            escort: self.open_opt("itinerary_legs", "escort", &g.id, g.escort_enc.as_ref())?,
            status: g.status.clone(),
            replaced_by: g.replaced_by.clone(),
            end_reason: self.open_opt(
                "itinerary_legs",
                "end_reason",
                &g.id,
                g.end_reason_enc.as_ref(),
            )?,
            ended_at: g.ended_at,
        })
    }

    async fn insert_document(
        &self,
        txn: &DatabaseTransaction,
        owner_org: i64,
        actor: &Actor,
        return_id: &str,
        d: &NewDocument,
    ) -> Result<travel_document::Model> {
        let id = random_token(16)?;
        Ok(travel_document::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(return_id.to_owned()),
            kind: Set(d.kind.as_str().into()),
            issued_by: Set(d.issued_by.clone()),
            number_enc: Set(self.seal_opt(
                owner_org,
                "travel_documents",
                "number",
                &id,
                d.number.as_deref(),
            )?),
            valid_until: Set(d.valid_until),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
            status: Set("valid".into()),
            replaced_by: Set(None),
            end_reason_enc: Set(None),
            ended_at: Set(None),
            ended_by: Set(None),
        }
        .insert(txn)
        .await?)
    }

    async fn insert_leg(
        &self,
        txn: &DatabaseTransaction,
        owner_org: i64,
        actor: &Actor,
        return_id: &str,
        g: &NewLeg,
    ) -> Result<itinerary_leg::Model> {
        let id = random_token(16)?;
        Ok(itinerary_leg::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(return_id.to_owned()),
            travel_on: Set(g.travel_on),
            from_enc: Set(self.seal_field(owner_org, "itinerary_legs", "from", &id, &g.from)?),
            to_enc: Set(self.seal_field(owner_org, "itinerary_legs", "to", &id, &g.to)?),
            escort_enc: Set(self.seal_opt(
                owner_org,
                "itinerary_legs",
                "escort",
                &id,
                g.escort.as_deref(),
            )?),
            status: Set("booked".into()),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
            replaced_by: Set(None),
            end_reason_enc: Set(None),
            ended_at: Set(None),
            ended_by: Set(None),
        }
        .insert(txn)
        .await?)
    }

    /// Record a travel document.
    pub async fn add_travel_document(
        &self,
        actor: &Actor,
        reference: &str,
        input: &DocumentInput,
        route: Route<'_>,
    ) -> Result<DocumentView> {
        let d = parse_document(
            &input.kind,
            &input.issued_by,
            input.number.as_deref(),
            &input.valid_until,
        )?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        let m = self
            .insert_document(&txn, l.c.owner_org_id, actor, &l.r.id, &d)
            .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await?;
        self.document_view(&m)
    }

    /// Replace a valid travel document (a new one was issued, or the first had an error);
    /// the old one stays in the history, marked changed, with why.
    pub async fn change_travel_document(
        &self,
        actor: &Actor,
        reference: &str,
        document_id: &str,
        input: &DocumentChangeInput,
        route: Route<'_>,
    ) -> Result<DocumentView> {
        let why = reason(&input.reason)?;
        let d = parse_document(
            &input.kind,
            &input.issued_by,
            input.number.as_deref(),
            &input.valid_until,
        )?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        require_before_departure(&l)?;
        let old = Self::valid_document(&l, document_id)?;
        let m = self
            .insert_document(&txn, l.c.owner_org_id, actor, &l.r.id, &d)
            .await?;
        self.end_document(&txn, l.c.owner_org_id, actor, &old, Some(&m.id), &why)
            .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await?;
        self.document_view(&m)
    }

    /// Cancel a valid travel document (lost, withdrawn, issued in error), with why.
    pub async fn cancel_travel_document(
        &self,
        actor: &Actor,
        reference: &str,
        document_id: &str,
        input: &EndInput,
        route: Route<'_>,
    ) -> Result<DocumentView> {
        let why = reason(&input.reason)?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        require_before_departure(&l)?;
        let old = Self::valid_document(&l, document_id)?;
        let m = self
            .end_document(&txn, l.c.owner_org_id, actor, &old, None, &why)
            .await?;
        Self::commit_return(txn, actor, &l, AuditAction::End, route).await?;
        self.document_view(&m)
    }

    fn valid_document(l: &Loaded, id: &str) -> Result<travel_document::Model> {
        let d = l
            .documents
            .iter()
            .find(|d| d.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("travel_document"))?;
        if d.status != "valid" {
            return Err(ServiceError::Conflict(format!(
                "this document was already {}; change the one that replaced it",
                d.status
            )));
        }
        Ok(d)
    }

    async fn end_document(
        &self,
        txn: &DatabaseTransaction,
        owner_org: i64,
        actor: &Actor,
        old: &travel_document::Model,
        replaced_by: Option<&str>,
        why: &str,
    ) -> Result<travel_document::Model> {
        let mut am = old.clone().into_active_model();
        // Replaced by another: changed; else cancelled.
        let status = if replaced_by.is_some() {
            "changed"
        } else {
            "cancelled"
        };
        am.status = Set(status.into());
        am.replaced_by = Set(replaced_by.map(str::to_owned));
        am.end_reason_enc = Set(Some(self.seal_field(
            owner_org,
            "travel_documents",
            "end_reason",
            &old.id,
            why,
        )?));
        am.ended_at = Set(Some(Utc::now()));
        am.ended_by = Set(Some(actor.user_id));
        Ok(am.update(txn).await?)
    }

    /// Record a leg of the itinerary. The first booked leg is the planned departure
    /// that hearings are checked against.
    pub async fn add_leg(
        &self,
        actor: &Actor,
        reference: &str,
        input: &LegInput,
        route: Route<'_>,
    ) -> Result<LegView> {
        let g = parse_leg(
            &input.travel_on,
            &input.from,
            &input.to,
            input.escort.as_deref(),
        )?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        let m = self
            .insert_leg(&txn, l.c.owner_org_id, actor, &l.r.id, &g)
            .await?;
        sync_planned_departure(&txn, l.c.id, &l.r.id, actor.user_id).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await?;
        self.leg_view(&m)
    }

    /// Change a booked leg (another date, place or escort): the new leg replaces it, and
    /// the old one stays in the history, marked changed, with why.
    pub async fn change_leg(
        &self,
        actor: &Actor,
        reference: &str,
        leg_id: &str,
        input: &LegChangeInput,
        route: Route<'_>,
    ) -> Result<LegView> {
        let why = reason(&input.reason)?;
        let g = parse_leg(
            &input.travel_on,
            &input.from,
            &input.to,
            input.escort.as_deref(),
        )?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        require_before_departure(&l)?;
        let old = Self::booked_leg(&l, leg_id)?;
        let m = self
            .insert_leg(&txn, l.c.owner_org_id, actor, &l.r.id, &g)
            .await?;
        self.end_leg(&txn, l.c.owner_org_id, actor, &old, Some(&m.id), &why)
            .await?;
        sync_planned_departure(&txn, l.c.id, &l.r.id, actor.user_id).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await?;
        self.leg_view(&m)
    }

    /// Cancel a booked leg, with why; the planned departure follows the legs left.
    pub async fn cancel_leg(
        &self,
        actor: &Actor,
        reference: &str,
        leg_id: &str,
        input: &EndInput,
        route: Route<'_>,
    ) -> Result<LegView> {
        let why = reason(&input.reason)?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        require_before_departure(&l)?;
        let old = Self::booked_leg(&l, leg_id)?;
        let m = self
            .end_leg(&txn, l.c.owner_org_id, actor, &old, None, &why)
            .await?;
        sync_planned_departure(&txn, l.c.id, &l.r.id, actor.user_id).await?;
        Self::commit_return(txn, actor, &l, AuditAction::End, route).await?;
        self.leg_view(&m)
    }

    fn booked_leg(l: &Loaded, id: &str) -> Result<itinerary_leg::Model> {
        let g = l
            .legs
            .iter()
            .find(|g| g.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("itinerary_leg"))?;
        if g.status != "booked" {
            return Err(ServiceError::Conflict(format!(
                "this leg was already {}; change the one that replaced it",
                g.status
            )));
        }
        Ok(g)
    }

    async fn end_leg(
        &self,
        txn: &DatabaseTransaction,
        owner_org: i64,
        actor: &Actor,
        old: &itinerary_leg::Model,
        replaced_by: Option<&str>,
        why: &str,
    ) -> Result<itinerary_leg::Model> {
        let mut am = old.clone().into_active_model();
        // Replaced by another: changed; else cancelled.
        let status = if replaced_by.is_some() {
            "changed"
        } else {
            "cancelled"
        };
        am.status = Set(status.into());
        am.replaced_by = Set(replaced_by.map(str::to_owned));
        am.end_reason_enc = Set(Some(self.seal_field(
            owner_org,
            "itinerary_legs",
            "end_reason",
            &old.id,
            why,
        )?));
        am.ended_at = Set(Some(Utc::now()));
        am.ended_by = Set(Some(actor.user_id));
        Ok(am.update(txn).await?)
    }

    /// Record the pre-departure counselling.
    pub async fn record_counselling(
        &self,
        actor: &Actor,
        reference: &str,
        input: &CounsellingInput,
        route: Route<'_>,
    ) -> Result<()> {
        let on = not_future(
            "counselled_on",
            day_or_today("counselled_on", input.counselled_on.as_deref())?,
        )?;
        let by = domain::parse_line("counselled_by", &input.counselled_by, 300)?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        let rid = l.r.id.clone();
        let mut am = l.r.clone().into_active_model();
        am.counselled_on = Set(Some(on));
        am.counselled_by_enc = Set(Some(self.seal_field(
            l.c.owner_org_id,
            "returns",
            "counselled_by",
            &rid,
            &by,
        )?));
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }

    /// Arrange the reception on arrival by an origin-country organisation.
    pub async fn arrange_reception(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ReceptionInput,
        route: Route<'_>,
    ) -> Result<()> {
        let on = day("reception_on", &input.reception_on)?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        let org = organisation::Entity::find_by_id(input.receiving_org_id)
            .first(&txn)
            .await?
            .ok_or_else(|| Invalid::new("receiving_org_id", "no such organisation"))?;
        if org.kind != OrgKind::OriginService.as_str() {
            return Err(
                Invalid::new("receiving_org_id", "must be an origin-country service").into(),
            );
        }
        if org.country != l.r.destination_country {
            return Err(
                Invalid::new("receiving_org_id", "must be in the country of return").into(),
            );
        }
        let mut am = l.r.clone().into_active_model();
        am.receiving_org_id = Set(Some(org.id));
        am.reception_on = Set(Some(on));
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }
}

/// The planned departure of the case follows the first booked leg of its return (none
/// left: no planned departure).
async fn sync_planned_departure(
    txn: &DatabaseTransaction,
    case_id: i64,
    return_id: &str,
    by_user: i64,
) -> Result<()> {
    let first = itinerary_leg::Entity::find()
        .filter(itinerary_leg::Column::ReturnId.eq(return_id))
        .filter(itinerary_leg::Column::Status.eq("booked"))
        .order_by_asc(itinerary_leg::Column::TravelOn)
        .first(txn)
        .await?
        .map(|g| g.travel_on);
    let existing = planned_departure::Entity::find_by_id(case_id)
        .first(txn)
        .await?;
    match (first, existing) {
        (None, None) => {}
        (None, Some(_)) => {
            planned_departure::Entity::delete_by_id(case_id)
                .exec(txn)
                .await?;
        }
        (Some(d), existing) => {
            let am = planned_departure::ActiveModel {
                case_id: Set(case_id),
                departure_on: Set(d),
                note_enc: Set(None),
                recorded_by: Set(by_user),
                recorded_at: Set(Utc::now()),
            };
            if existing.is_some() {
                am.update(txn).await?;
            } else {
                am.insert(txn).await?;
            }
        }
    }
    Ok(())
}

/// Release what was booked for a return: its legs, and the planned departure.
pub(super) async fn release_bookings(
    txn: &DatabaseTransaction,
    return_id: &str,
    case_id: i64,
) -> Result<()> {
    itinerary_leg::Entity::update_many()
        .col_expr(itinerary_leg::Column::Status, Expr::value("released"))
        .filter(itinerary_leg::Column::ReturnId.eq(return_id))
        .filter(itinerary_leg::Column::Status.eq("booked"))
        .exec(txn)
        .await?;
    planned_departure::Entity::delete_by_id(case_id)
        .exec(txn)
        .await?;
    Ok(())
}
