//! The notifications page, and opening one.

use crate::http::{PageError, Pairs, Signed, SignedForm, see_other};
use actix_web::{HttpResponse, web};
use passerelle_core::domain::{Paging, Role};
use passerelle_core::notify::Delivery;
use passerelle_core::service::notify::{Preference, PreferenceInput};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(list))
        .route("/notifications/preferences", web::post().to(set_pref))
        .route(
            "/notifications/preferences/organisation",
            web::post().to(set_org_pref),
        )
        .route("/notifications/{id}", web::get().to(open));
}

async fn list(s: Signed) -> Result<HttpResponse, PageError> {
    let svc = s.services();
    let (page, _) = svc
        .my_notifications(
            s.actor(),
            Paging {
                page: 1,
                per_page: Paging::MAX_PER_PAGE,
            },
        )
        .await
        .map_err(|e| s.page.service_error(e))?;
    let failing = if s.actor().role == Role::OrgAdmin {
        svc.failing_addresses(s.actor())
            .await
            .map_err(|e| s.page.service_error(e))?
    } else {
        vec![]
    };
    let prefs = svc
        .preferences(s.actor(), false)
        .await
        .map_err(|e| s.page.service_error(e))?;
    let org_prefs = if s.actor().role == Role::OrgAdmin {
        Some(
            svc.preferences(s.actor(), true)
                .await
                .map_err(|e| s.page.service_error(e))?,
        )
    } else {
        None
    };
    let pref_json = |list: &[Preference]| {
        json!(
            list.iter()
                .map(|p| json!({
                    "kind": p.kind.as_str(),
                    "label": s.page.t(&format!("notification-kind-{}", p.kind.as_str())),
                    "mandatory": p.mandatory,
                    "choices": std::iter::once(json!({"value": "", "label": s.page.t("delivery-default"), "selected": p.delivery.is_none()}))
                        .chain(Delivery::ALL.iter().filter(|d| !(p.mandatory && **d == Delivery::Off)).map(|d| json!({
                            "value": d.as_str(),
                            "label": s.page.t(&format!("delivery-{}", d.as_str())),
                            "selected": p.delivery == Some(*d),
                        })))
                        .collect::<Vec<_>>(),
                }))
                .collect::<Vec<_>>()
        )
    };
    let mut data = s.page.base("notifications-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "items".into(),
            json!(
                page.items
                    .iter()
                    .map(|n| json!({
                        "id": n.id,
                        "kind_value": n.kind.as_str(),
                        "kind": s.page.t(&format!("notification-kind-{}", n.kind.as_str())),
                        "reference": n.reference,
                        "from_org": n.from_org,
                        "created": n.created_at.format("%Y-%m-%d %H:%M").to_string(),
                        "read": n.read,
                    }))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert("prefs".into(), pref_json(&prefs));
        o.insert(
            "org_prefs".into(),
            org_prefs
                .as_deref()
                .map(pref_json)
                .unwrap_or(serde_json::Value::Null),
        );
        o.insert(
            "failing".into(),
            json!(
                failing
                    .iter()
                    .map(|(e, t)| json!({"email": e, "since": t.format("%Y-%m-%d %H:%M").to_string()}))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(s.page.ok("notifications", data))
}

/// Open a notification: marked read, then its page.
async fn open(s: Signed, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    let link = s
        .services()
        .open_notification(s.actor(), &id)
        .await
        .map_err(|e| s.page.service_error(e))?;
    Ok(see_other(&link))
}

async fn save(f: SignedForm<Pairs>, organisation: bool) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = PreferenceInput {
        kind: f.form.text("kind"),
        delivery: f.form.opt("delivery"),
    };
    s.services()
        .set_preference(s.actor(), organisation, &input)
        .await
        .map_err(|e| s.page.service_error(e))?;
    Ok(s.page
        .done("/notifications#preferences", "flash-preferences-saved"))
}

async fn set_pref(f: SignedForm<Pairs>) -> Result<HttpResponse, PageError> {
    save(f, false).await
}

async fn set_org_pref(f: SignedForm<Pairs>) -> Result<HttpResponse, PageError> {
    save(f, true).await
}
