//! Notifications (issue 13) against a real SMTP server (aiosmtpd, started by the tests):
//! the referral, alert and deadline mails reach the right people in their language, with
//! the link and a stable `Message-ID`, and name no one; a refusing server gets the mail
//! later and an always-refusing one marks it failed for the administrator; two nodes on
//! one PostgreSQL send each of 500 messages once, and a node that dies loses none.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_core::store::First;
use passerelle_core::store::entity::notification;
use passerelle_tests::journey::{arrived, consent};
use passerelle_tests::process::ServerProcess;
use passerelle_tests::smtp::{Mail, SmtpServer};
use passerelle_tests::{
    get_json as get, in_days, postgres_admin_url, postgres_for_pg_only_tests, send_json as send,
    spawn_app_on, spawn_app_with,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;
use std::collections::HashSet;

fn to(mails: &[Mail], who: &str) -> Vec<Mail> {
    mails
        .iter()
        .filter(|m| m.envelope_to == who)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referral_alert_and_deadline_mails_reach_the_right_people_in_their_language_and_name_no_one()
 {
    let Some(smtp) = SmtpServer::start(&[]) else {
        return;
    };
    let app = spawn_app_with(postgres_admin_url(), |s| {
        smtp.configure(s);
        s.mail.schedule_secs = 1;
    })
    .await;
    let w = app.world().await;
    app.user(w.shelter, "coord@shelter.test", "shelter_coordinator")
        .await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    app.user(w.origin, "followup@edo.test", "follow_up_officer")
        .await;
    let adv = app.api_login("advocate@ngo.test").await;
    let officer = app.api_login("officer@ngo.test").await;
    // The shelter's coordinator reads French: the language switch, signed in.
    let coord_html = app.html_login("coord@shelter.test").await;
    let r = coord_html
        .get(app.url("/lang/fr?next=/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // A referral to the shelter.
    let reference = app.create_case(&adv, "Joy Okonkwo-Referred").await;
    let k = consent(&app, &adv, &reference, "shelter").await;
    let (st, v) = send(&adv, "POST", app.url(&format!("/api/v1/cases/{reference}/referrals")),
        json!({"to_org_id": w.shelter, "service": "shelter", "consent_id": k, "sections": ["person"]})).await;
    assert_eq!(st, 201, "{v}");
    let mails = smtp.wait_for(1, 20).await;
    let got = to(&mails, "coord@shelter.test");
    assert_eq!(got.len(), 1, "{mails:?}");
    let m = &got[0];
    // In French ("Orientation reçue", its non-ASCII word encoded as RFC 2047 asks).
    let subject = m.header("Subject").unwrap();
    assert!(
        subject.starts_with("[Passerelle] Orientation ") && subject.contains(&reference),
        "{subject}"
    );
    let text = m.decoded();
    assert!(text.contains(&reference), "{text}");
    assert!(
        text.contains("https://passerelle.test/referrals#inbox"),
        "{text}"
    );
    assert!(
        text.contains("Passage"),
        "the organisation is named: {text}"
    );
    let id = m.header("Message-ID").unwrap();
    assert!(
        id.starts_with('<') && id.ends_with("@passerelle.example>"),
        "{id}"
    );
    // The row says sent, with that id.
    let sent = notification::Entity::find()
        .filter(notification::Column::MailStatus.eq("sent"))
        .all(&app.services.db)
        .await
        .unwrap();
    assert!(
        sent.iter()
            .any(|n| id == format!("<{}@passerelle.example>", n.id))
    );

    // An alert after return reaches the follow-up officer and the destination advocate.
    let (ret_ref, _) = arrived(
        &app,
        &adv,
        &officer,
        w.origin,
        "Grace Alerted-Person",
        &["services"],
        json!({}),
    )
    .await;
    let follow = app.api_login("followup@edo.test").await;
    let (st, a) = send(&follow, "POST", app.url(&format!("/api/v1/cases/{ret_ref}/follow-up/alerts")),
        json!({"category": "trafficker_or_recruiter_contact", "severity": "high", "details": "the recruiter waited outside her mother's house in Benin City"})).await;
    assert_eq!(st, 201, "{a}");
    // A stored deadline due in two days: the recovery period of a decision 28 days ago.
    let (st, d) = send(&adv, "POST", app.url(&format!("/api/v1/cases/{reference}/determinations/trafficking")),
        json!({"status": "presumed", "deciding_body": "police", "decided_on": in_days(-28).to_string(), "basis": "interview in Lyon"})).await;
    assert_eq!(st, 201, "{d}");

    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mails = loop {
        let m = smtp.mails();
        let alerts = m
            .iter()
            .filter(|x| {
                x.header("Subject")
                    .is_some_and(|s| s.contains("Alert after return"))
            })
            .count();
        let deadlines = m
            .iter()
            .filter(|x| x.header("Subject").is_some_and(|s| s.contains("Deadline")))
            .count();
        if (alerts >= 2 && deadlines >= 1) || std::time::Instant::now() > end {
            break m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let alert_to: Vec<&str> = mails
        .iter()
        .filter(|x| {
            x.header("Subject")
                .is_some_and(|s| s.contains("Alert after return"))
        })
        .map(|x| x.envelope_to.as_str())
        .collect();
    assert!(
        alert_to.contains(&"followup@edo.test") && alert_to.contains(&"advocate@ngo.test"),
        "{alert_to:?}"
    );
    let deadline = mails
        .iter()
        .find(|x| x.header("Subject").is_some_and(|s| s.contains("Deadline")))
        .unwrap_or_else(|| panic!("no deadline reminder: {mails:?}"));
    assert_eq!(deadline.envelope_to, "advocate@ngo.test");
    assert!(deadline.decoded().contains(&format!(
        "https://passerelle.test/cases/{reference}/identification"
    )));
    // The scheduler made it once, however often it ran.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let reminders = notification::Entity::find()
        .filter(notification::Column::Kind.eq("deadline_due"))
        .count(&app.services.db)
        .await
        .unwrap();
    assert_eq!(reminders, 1);

    // No mail names anyone or says anything of the person.
    let all = smtp.mails();
    assert!(all.len() >= 4);
    for m in &all {
        let t = m.decoded();
        for secret in [
            "Joy",
            "Okonkwo",
            "Grace",
            "Alerted",
            "1994-03-02",
            "+33 6 00",
            "met at the station",
            "safe bed",
            "recruiter",
            "Benin City",
            "Lyon",
        ] {
            assert!(!t.contains(secret), "{secret} in a mail: {t}");
        }
    }
    // In the app: the coordinator's list and its unread count, read once opened.
    let coord = app.api_login("coord@shelter.test").await;
    let (st, list) = get(&coord, app.url("/api/v1/notifications")).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        (list["unread"].as_u64(), list["items"][0]["kind"].as_str()),
        (Some(1), Some("referral_received"))
    );
    let page = coord_html
        .get(app.url("/cases"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"unread-count\">1<"),
        "the header counts it"
    );
    let nid = list["items"][0]["id"].as_str().unwrap();
    let r = coord_html
        .get(app.url(&format!("/notifications/{nid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/referrals#inbox")
    );
    let (_, list) = get(&coord, app.url("/api/v1/notifications")).await;
    assert_eq!(list["unread"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_server_gets_the_mail_later_and_a_refused_address_is_marked_for_the_administrator()
 {
    // The first two recipients are refused for now (451); one address for good (550).
    let Some(smtp) = SmtpServer::start(&[
        "--refuse-first",
        "2",
        "--always-refuse",
        "gone@shelter.test",
    ]) else {
        return;
    };
    let app = spawn_app_with(postgres_admin_url(), |s| smtp.configure(s)).await;
    let w = app.world().await;
    app.user(w.shelter, "coord@shelter.test", "shelter_coordinator")
        .await;
    app.user(w.shelter, "gone@shelter.test", "shelter_coordinator")
        .await;
    app.user(w.shelter, "admin@shelter.test", "org_admin").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Retry Person").await;
    let k = consent(&app, &adv, &reference, "shelter").await;
    let (st, v) = send(&adv, "POST", app.url(&format!("/api/v1/cases/{reference}/referrals")),
        json!({"to_org_id": w.shelter, "service": "shelter", "consent_id": k, "sections": ["person"]})).await;
    assert_eq!(st, 201, "{v}");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let rows = notification::Entity::find()
            .all(&app.services.db)
            .await
            .unwrap();
        let settled = rows.iter().filter(|n| n.mail_status != "pending").count();
        if settled == rows.len() || std::time::Instant::now() > end {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let rows = notification::Entity::find()
        .all(&app.services.db)
        .await
        .unwrap();
    let by = |e: &str| rows.iter().find(|n| n.email == e).unwrap().clone();
    let good = by("coord@shelter.test");
    assert_eq!(good.mail_status, "sent");
    let gone = by("gone@shelter.test");
    assert_eq!(
        (gone.mail_status.as_str(), gone.attempts),
        ("failed", 1),
        "a permanent refusal is not retried"
    );
    assert!(gone.last_error.unwrap_or_default().contains("550"));
    // Someone was refused for now first and got it later.
    assert!(
        rows.iter()
            .any(|n| n.mail_status == "sent" && n.attempts > 1),
        "{rows:?}"
    );
    assert_eq!(to(&smtp.mails(), "coord@shelter.test").len(), 1);
    // The shelter's administrator sees the failing address.
    let admin = app.html_login("admin@shelter.test").await;
    let page = admin
        .get(app.url("/notifications"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"failing-addresses\"") && page.contains("gone@shelter.test"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_refused_for_now_every_time_is_marked_failed_after_the_maximum() {
    let Some(smtp) = SmtpServer::start(&["--refuse-first", "1000"]) else {
        return;
    };
    let app = spawn_app_with(postgres_admin_url(), |s| {
        smtp.configure(s);
        s.mail.max_attempts = 3;
    })
    .await;
    let w = app.world().await;
    app.user(w.shelter, "coord@shelter.test", "shelter_coordinator")
        .await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Never Delivered").await;
    let k = consent(&app, &adv, &reference, "shelter").await;
    let (st, v) = send(&adv, "POST", app.url(&format!("/api/v1/cases/{reference}/referrals")),
        json!({"to_org_id": w.shelter, "service": "shelter", "consent_id": k, "sections": ["person"]})).await;
    assert_eq!(st, 201, "{v}");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let n = loop {
        let n = notification::Entity::find()
            .first(&app.services.db)
            .await
            .unwrap()
            .unwrap();
        if n.mail_status != "pending" || std::time::Instant::now() > end {
            break n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!((n.mail_status.as_str(), n.attempts), ("failed", 3), "{n:?}");
    assert!(smtp.mails().is_empty());
}

/// `n` due notifications for `user`, numbered from `from` (their ids are `Message-ID`s).
async fn due(app: &passerelle_tests::TestApp, user: i64, org: i64, from: u64, n: u64) {
    let now = chrono::Utc::now();
    for i in from..from + n {
        notification::ActiveModel {
            id: Set(format!("{:032x}", 0xabc0_0000_u64 + i)),
            user_id: Set(user),
            org_id: Set(org),
            kind: Set("deadline_due".into()),
            case_ref: Set(Some(format!("PSG-2026-{:04}", i + 1))),
            from_org: Set("Passage".into()),
            link: Set("/deadlines".into()),
            lang: Set("en".into()),
            email: Set("advocate@ngo.test".into()),
            delivery: Set("immediately".into()),
            mail_status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_owner: Set(None),
            lease_until: Set(None),
            sent_at: Set(None),
            last_error: Set(None),
            read_at: Set(None),
            dedup_key: Set(None),
            created_at: Set(now),
            digest_id: Set(None),
            secret_enc: Set(None),
        }
        .insert(&app.services.db)
        .await
        .unwrap();
    }
}

fn message_ids(mails: &[Mail]) -> HashSet<String> {
    mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect()
}

/// Wait until `n` distinct messages arrived (at most two minutes); all the mails.
async fn until_distinct(smtp: &SmtpServer, n: usize) -> Vec<Mail> {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut mails = smtp.mails();
    while message_ids(&mails).len() < n && std::time::Instant::now() < end {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        mails = smtp.mails();
    }
    mails
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgresql_send_each_of_500_messages_once() {
    // Always on PostgreSQL (the claims use FOR UPDATE SKIP LOCKED there), whichever
    // backend the rest of the suite runs on.
    let pg = postgres_for_pg_only_tests();
    let Some(smtp) = SmtpServer::start(&[]) else {
        return;
    };
    let app = spawn_app_on(Some(pg)).await;
    let w = app.world().await;
    let advocate = passerelle_core::store::entity::user::Entity::find()
        .filter(passerelle_core::store::entity::user::Column::Email.eq("advocate@ngo.test"))
        .first(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    due(&app, advocate.id, w.ngo, 0, 500).await;
    let tweak = |s: &mut passerelle::config::Settings| {
        smtp.configure(s);
        s.mail.batch = 10;
        s.mail.lease_secs = 3;
    };
    // Two nodes (the test app sends nothing: its mail is off).
    let started = std::time::Instant::now();
    let (_, a_worker, _) = app.another_node(tweak).await;
    let (_, b_worker, _) = app.another_node(tweak).await;
    let mails = until_distinct(&smtp, 500).await;
    let took = started.elapsed();
    assert_eq!(message_ids(&mails).len(), 500, "every message arrived");
    // Give a duplicate time to show.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 500, "each message was sent once");
    eprintln!("two nodes: 500 messages in {:.1} s", took.as_secs_f64());

    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left = notification::Entity::find()
            .filter(notification::Column::MailStatus.ne("sent"))
            .count(&app.services.db)
            .await
            .unwrap();
        if left == 0 || std::time::Instant::now() > end {
            assert_eq!(left, 0, "every row is marked sent");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    a_worker.unwrap().abort();
    b_worker.unwrap().abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_digest_gathers_several_events_in_one_mail_and_off_sends_none() {
    let Some(smtp) = SmtpServer::start(&[]) else {
        return;
    };
    let app = spawn_app_with(postgres_admin_url(), |s| {
        smtp.configure(s);
        s.mail.schedule_secs = 1;
        s.mail.digest_secs = 3;
    })
    .await;
    let w = app.world().await;
    app.user(w.shelter, "digest@shelter.test", "shelter_coordinator")
        .await;
    app.user(w.shelter, "quiet@shelter.test", "shelter_coordinator")
        .await;
    app.user(w.shelter, "admin@shelter.test", "org_admin").await;
    let admin = app.api_login("admin@shelter.test").await;
    let digest = app.api_login("digest@shelter.test").await;
    let quiet = app.api_login("quiet@shelter.test").await;
    // The organisation's default: referrals not by mail; one coordinator asks for a digest.
    let (st, v) = send(
        &admin,
        "PUT",
        app.url("/api/v1/notifications/preferences/organisation"),
        json!({"kind": "referral_received", "delivery": "off"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = send(
        &digest,
        "PUT",
        app.url("/api/v1/notifications/preferences"),
        json!({"kind": "referral_received", "delivery": "daily_digest"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let mine = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "referral_received")
        .cloned()
        .unwrap();
    assert_eq!(mine["delivery"], "daily_digest");
    // Alerts and overdue deadlines cannot be turned off, by a person or by default.
    for (c, url) in [
        (&quiet, "/api/v1/notifications/preferences"),
        (&admin, "/api/v1/notifications/preferences/organisation"),
    ] {
        for kind in ["alert_raised", "deadline_due"] {
            let (st, e) = send(
                c,
                "PUT",
                app.url(url),
                json!({"kind": kind, "delivery": "off"}),
            )
            .await;
            assert_eq!(
                (st, e["field"].as_str()),
                (422, Some("delivery")),
                "{kind}: {e}"
            );
        }
    }
    // Only the administrator sets the defaults.
    let (st, _) = send(
        &quiet,
        "PUT",
        app.url("/api/v1/notifications/preferences/organisation"),
        json!({"kind": "referral_received", "delivery": "immediately"}),
    )
    .await;
    assert_eq!(st, 403);

    let adv = app.api_login("advocate@ngo.test").await;
    let mut refs = Vec::new();
    for name in ["Digest One", "Digest Two"] {
        let reference = app.create_case(&adv, name).await;
        let k = consent(&app, &adv, &reference, "shelter").await;
        let (st, v) = send(&adv, "POST", app.url(&format!("/api/v1/cases/{reference}/referrals")),
            json!({"to_org_id": w.shelter, "service": "shelter", "consent_id": k, "sections": ["person"]})).await;
        assert_eq!(st, 201, "{v}");
        refs.push(reference);
    }
    // Nothing at once; then one digest naming both.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        to(&smtp.mails(), "digest@shelter.test").is_empty(),
        "a digest waits"
    );
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while to(&smtp.mails(), "digest@shelter.test").is_empty() && std::time::Instant::now() < end {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let got = to(&smtp.mails(), "digest@shelter.test");
    assert_eq!(got.len(), 1, "one digest: {got:?}");
    let text = got[0].decoded();
    assert!(got[0].header("Subject").unwrap().contains("digest"));
    for r in &refs {
        assert!(text.contains(r.as_str()), "{r} in the digest: {text}");
    }
    assert!(text.contains("2 events"), "{text}");
    // Off: no mail, still in the app.
    assert!(to(&smtp.mails(), "quiet@shelter.test").is_empty());
    let (_, list) = get(&quiet, app.url("/api/v1/notifications")).await;
    assert_eq!(list["total"], 2, "{list}");
    assert!(to(&smtp.mails(), "admin@shelter.test").is_empty());
}

/// The sign-in link of a mail (its path), from its plain text.
fn signin_path(m: &Mail) -> String {
    let t = m.decoded();
    let i = t
        .find("https://passerelle.test/signin/")
        .expect("a sign-in link");
    let rest = &t[i + "https://passerelle.test".len()..];
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_and_resets_send_single_use_links_that_expire_and_tell_no_one_who_has_an_account()
 {
    let Some(smtp) = SmtpServer::start(&[]) else {
        return;
    };
    let app = spawn_app_with(postgres_admin_url(), |s| smtp.configure(s)).await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let admin = app.api_login("admin@ngo.test").await;
    // An invitation: an account without a password, and a link by mail.
    let (st, u) = send(&admin, "POST", app.url("/api/v1/users"),
        json!({"org_id": w.ngo, "email": "new@ngo.test", "display_name": "New Colleague", "role": "advocate"})).await;
    assert_eq!(st, 201, "{u}");
    let mails = smtp.wait_for(1, 20).await;
    let invite = to(&mails, "new@ngo.test");
    assert_eq!(invite.len(), 1, "{mails:?}");
    let path = signin_path(&invite[0]);
    let token = path.trim_start_matches("/signin/").to_owned();
    assert_eq!(token.len(), 64, "{path}");
    // The token is nowhere in the database in clear (hashed; the mail's link encrypted).
    assert!(!passerelle_tests::contains(
        &app.raw_database_bytes().await,
        &token
    ));

    let c = passerelle_tests::client();
    let page = c
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("new@ngo.test") && page.contains("id=\"signin-link-form\""),
        "{page}"
    );
    let csrf = passerelle_tests::hidden_csrf(&page);
    let r = c
        .post(app.url(&path))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("password", "a fine new password"),
            ("confirm", "a fine new password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );
    let (st, _) = send(
        &passerelle_tests::client(),
        "POST",
        app.url("/api/v1/auth/login"),
        json!({"email": "new@ngo.test", "password": "a fine new password"}),
    )
    .await;
    assert_eq!(st, 200, "the new password signs in");
    // Used once: refused with a clear page.
    let r = c
        .get(app.url(&path))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 410);
    assert!(r.text().await.unwrap().contains("Ce lien a déjà servi"));

    // "Forgot password": the same answer for an address with an account and one without.
    let anon = passerelle_tests::client();
    let (s1, b1) = send(
        &anon,
        "POST",
        app.url("/api/v1/auth/forgot"),
        json!({"email": "new@ngo.test"}),
    )
    .await;
    let (s2, b2) = send(
        &anon,
        "POST",
        app.url("/api/v1/auth/forgot"),
        json!({"email": "nobody@ngo.test"}),
    )
    .await;
    assert_eq!((s1, &b1), (s2, &b2));
    assert_eq!(s1, 202);
    // The page too.
    let answer = |email: &'static str| {
        let anon = anon.clone();
        let url = app.url("/forgot");
        async move {
            let form = anon.get(&url).send().await.unwrap().text().await.unwrap();
            let csrf = passerelle_tests::hidden_csrf(&form);
            let r = anon
                .post(&url)
                .form(&[("_csrf", csrf.as_str()), ("email", email)])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (p1, t1) = answer("new@ngo.test").await;
    let (p2, t2) = answer("nobody@ngo.test").await;
    assert_eq!(p1, p2);
    let sent = |t: &str| t.contains("id=\"forgot-sent\"");
    assert!(sent(&t1) && sent(&t2));
    let resets = smtp.wait_for(3, 20).await;
    let resets = to(&resets, "new@ngo.test");
    assert_eq!(resets.len(), 3, "the invitation and two resets: {resets:?}");
    assert!(to(&smtp.mails(), "nobody@ngo.test").is_empty());
    // Rate-limited: a fourth and fifth request in the window make no link.
    for _ in 0..2 {
        let (st, _) = send(
            &anon,
            "POST",
            app.url("/api/v1/auth/forgot"),
            json!({"email": "new@ngo.test"}),
        )
        .await;
        assert_eq!(st, 202);
    }
    let links = passerelle_core::store::entity::signin_token::Entity::find()
        .all(&app.services.db)
        .await
        .unwrap();
    assert_eq!(links.len(), 4, "one invitation and three resets, no more");
    // An expired link is refused with a clear page.
    let last = signin_path(resets.last().unwrap());
    passerelle_core::store::entity::signin_token::Entity::update_many()
        .col_expr(
            passerelle_core::store::entity::signin_token::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.services.db)
        .await
        .unwrap();
    let r = anon.get(app.url(&last)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 410);
    assert!(r.text().await.unwrap().contains("This link has expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_reminds_once_of_a_hearing_that_needs_the_person_and_an_overdue_citizenship_confirmation()
 {
    // Mail off: the reminders are in the app all the same.
    let app = spawn_app_with(postgres_admin_url(), |s| s.mail.schedule_secs = 1).await;
    let w = app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Reminded Person").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (st, p) = send(&adv, "POST", url("/proceedings"),
        json!({"court": "C", "jurisdiction": "J", "case_number": "N", "person_role": "witness", "charges": ["trafficking"]})).await;
    assert_eq!(st, 201, "{p}");
    let pid = p["id"].as_str().unwrap();
    let (st, h) = send(&adv, "POST", url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "deposition", "held_on": in_days(3).to_string(), "testimony_required": true, "presence_required": false})).await;
    assert_eq!(st, 201, "{h}");
    // A hearing far ahead, and one that does not need the person: no reminder.
    for (days, needs) in [(30, true), (2, false)] {
        let (st, h) = send(&adv, "POST", url(&format!("/proceedings/{pid}/hearings")),
            json!({"kind": "deposition", "held_on": in_days(days).to_string(), "testimony_required": needs, "presence_required": false})).await;
        assert_eq!(st, 201, "{h}");
    }
    let k = consent(&app, &adv, &reference, "return_assistance").await;
    let (st, r) = send(&adv, "POST", url("/return"),
        json!({"requested_by": "person", "consent_id": k, "explained_by": "Ms Obi", "destination_country": "NG",
            "agency_org_id": w.returns, "requested_on": in_days(-30).to_string()})).await;
    assert_eq!(st, 201, "{r}");
    let (st, q) = send(&adv, "POST", url("/return/citizenship"),
        json!({"authority": "Embassy of Nigeria", "sent_on": in_days(-20).to_string(), "due_on": in_days(-2).to_string()})).await;
    assert_eq!(st, 201, "{q}");
    let links = || async {
        let (_, list) = get(&adv, app.url("/api/v1/notifications")).await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "deadline_due")
            .map(|n| n["link"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while links().await.len() < 2 && std::time::Instant::now() < end {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Several runs later, still once each.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let mut got = links().await;
    got.sort();
    assert_eq!(
        got,
        vec![
            format!("/cases/{reference}/proceedings"),
            format!("/cases/{reference}/return")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_is_told_at_once_and_an_unanswered_referral_reminded_once_past_its_date() {
    let app = spawn_app_with(postgres_admin_url(), |s| s.mail.schedule_secs = 1).await;
    let w = app.world().await;
    app.user(w.shelter, "coord@shelter.test", "shelter_coordinator")
        .await;
    let adv = app.api_login("advocate@ngo.test").await;
    let coord = app.api_login("coord@shelter.test").await;
    let reference = app.create_case(&adv, "Shared Person").await;
    let k = consent(&app, &adv, &reference, "shelter").await;
    let (st, v) = send(
        &adv,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/shares")),
        json!({"org_id": w.shelter, "purpose": "shelter", "consent_id": k}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let kinds = || async {
        let (_, list) = get(&coord, app.url("/api/v1/notifications")).await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds().await, vec!["share_received".to_owned()]);
    // A referral whose answer date has passed.
    let other = app.create_case(&adv, "Referred Person").await;
    let k = consent(&app, &adv, &other, "shelter").await;
    let (st, v) = send(&adv, "POST", app.url(&format!("/api/v1/cases/{other}/referrals")),
        json!({"to_org_id": w.shelter, "service": "shelter", "consent_id": k, "sections": ["person"]})).await;
    assert_eq!(st, 201, "{v}");
    passerelle_core::store::entity::referral::Entity::update_many()
        .col_expr(
            passerelle_core::store::entity::referral::Column::DueAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .exec(&app.services.db)
        .await
        .unwrap();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !kinds().await.contains(&"deadline_due".to_owned()) && std::time::Instant::now() < end {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let mut got = kinds().await;
    got.sort();
    assert_eq!(
        got,
        vec!["deadline_due", "referral_received", "share_received"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fund_falling_below_its_threshold_tells_its_fund_managers_once_by_mail() {
    let Some(smtp) = SmtpServer::start(&[]) else {
        return;
    };
    let app = spawn_app_with(postgres_admin_url(), |s| smtp.configure(s)).await;
    let w = app.world().await;
    app.user(w.ngo, "money@ngo.test", "fund_manager").await;
    app.user(w.ngo, "treasurer@ngo.test", "fund_manager").await;
    let manager = app.api_login("money@ngo.test").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let api = |p: &str| app.url(&format!("/api/v1{p}"));
    let (st, f) = send(
        &manager,
        "POST",
        api("/funds"),
        json!({"name": "Fonds 2026",
        "source": "state_budget", "currency": "EUR", "low_balance_minor": 50_000,
        "approval_threshold_minor": 1_000_000, "categories": ["other"]}),
    )
    .await;
    assert_eq!(st, 201, "{f}");
    let fund = f["id"].as_str().unwrap().to_owned();
    let (st, v) = send(
        &manager,
        "POST",
        api(&format!("/funds/{fund}/allocations")),
        json!({"amount_minor": 100_000, "currency": "EUR", "origin": "Budget line 2026-17"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let reference = app.create_case(&adv, "Funded Low-Person").await;
    let commit = |minor: i64| {
        send(
            &adv,
            "POST",
            api(&format!("/funds/{fund}/commitments")),
            json!({"reference": reference, "category": "other", "purpose": "other",
                "description": "Bus tickets", "amount_minor": minor, "currency": "EUR"}),
        )
    };
    // 100 000 → 70 000: still above 50 000, nobody is told.
    let (st, v) = commit(30_000).await;
    assert_eq!(st, 201, "{v}");
    // 70 000 → 40 000: below; both fund managers are told (the advocate did it).
    let (st, v) = commit(30_000).await;
    assert_eq!(st, 201, "{v}");
    // 40 000 → 30 000: still below, not told again.
    let (st, v) = commit(10_000).await;
    assert_eq!(st, 201, "{v}");
    smtp.wait_for(2, 20).await;
    // Give a third mail time to show.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mails: Vec<Mail> = smtp
        .mails()
        .into_iter()
        .filter(|m| m.header("Subject").is_some_and(|s| s.contains("fund")))
        .collect();
    assert_eq!(mails.len(), 2, "{mails:?}");
    for who in ["money@ngo.test", "treasurer@ngo.test"] {
        let got = to(&mails, who);
        assert_eq!(got.len(), 1, "{who}: {mails:?}");
        let subject = got[0].header("Subject").unwrap();
        assert_eq!(subject, "[Passerelle] A fund is running low");
        let text = got[0].decoded();
        assert!(
            text.contains(&format!("https://passerelle.test/funds/{fund}")),
            "{text}"
        );
        assert!(
            !text.contains("Funded Low-Person") && !text.contains(&reference),
            "{text}"
        );
    }
    // In the app too, with the fund's page as its link.
    let (st, v) = get(&manager, api("/notifications")).await;
    assert_eq!(st, 200, "{v}");
    let low: Vec<_> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "fund_low")
        .collect();
    assert_eq!(low.len(), 1, "{v}");
    assert_eq!(low[0]["link"], format!("/funds/{fund}"));
    // The fund says it is low.
    let (_, f) = get(&manager, api(&format!("/funds/{fund}"))).await;
    assert_eq!(f["low"], true, "{f}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_process_killed_mid_run_loses_no_message_and_the_restarted_one_finishes() {
    // Two real `passerelle serve` processes on one PostgreSQL; one is killed with SIGKILL
    // while the 500 messages go out, then started again.
    let pg = postgres_for_pg_only_tests();
    let Some(smtp) = SmtpServer::start(&[]) else {
        return;
    };
    let app = spawn_app_on(Some(pg)).await;
    let w = app.world().await;
    let advocate = passerelle_core::store::entity::user::Entity::find()
        .filter(passerelle_core::store::entity::user::Column::Email.eq("advocate@ngo.test"))
        .first(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    due(&app, advocate.id, w.ngo, 0, 500).await;
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_passerelle-node"));
    let env = [
        ("PASSERELLE__MAIL__TRANSPORT", "smtp".to_owned()),
        ("PASSERELLE__MAIL__HOST", "127.0.0.1".to_owned()),
        ("PASSERELLE__MAIL__PORT", smtp.port.to_string()),
        ("PASSERELLE__MAIL__SECURITY", "none".to_owned()),
        ("PASSERELLE__MAIL__POLL_MS", "20".to_owned()),
        ("PASSERELLE__MAIL__BATCH", "10".to_owned()),
        ("PASSERELLE__MAIL__LEASE_SECS", "3".to_owned()),
        ("PASSERELLE__MAIL__SCHEDULE_SECS", "3600".to_owned()),
    ];
    let a = ServerProcess::start(bin, &app, &env);
    let b = ServerProcess::start(bin, &app, &env);
    assert_ne!(a.port, b.port);
    // Kill A once a fifth has arrived: it holds leases on messages it sent or not.
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while smtp.mails().len() < 100 && std::time::Instant::now() < end {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let at_kill = smtp.mails().len();
    assert!(at_kill >= 100, "only {at_kill} arrived in a minute");
    a.kill();
    assert!(
        message_ids(&smtp.mails()).len() < 500,
        "A was killed before the run ended"
    );
    // A starts again (a restarted node); B goes on. Every message arrives.
    let a = ServerProcess::start(bin, &app, &env);
    let mails = until_distinct(&smtp, 500).await;
    assert_eq!(message_ids(&mails).len(), 500, "no message was lost");
    // Wait until every row is marked sent, then count what came twice: only messages A
    // had handed to the server but not marked (at most its batch, 10, and the 8 it sends
    // at once), each again with its own Message-ID.
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left = notification::Entity::find()
            .filter(notification::Column::MailStatus.ne("sent"))
            .count(&app.services.db)
            .await
            .unwrap();
        if left == 0 || std::time::Instant::now() > end {
            assert_eq!(left, 0, "every row is marked sent");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mails = smtp.mails();
    let again = mails.len() - 500;
    assert!(again <= 10, "{again} sent twice");
    eprintln!("killed after {at_kill} mails; {again} sent again with their Message-ID");
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizenship_not_confirmed_tells_the_advocate_and_a_withdrawal_tells_the_agency() {
    let app = spawn_app_with(postgres_admin_url(), |_| {}).await;
    let w = app.world().await;
    app.user(w.returns, "agent@retour.test", "return_officer")
        .await;
    let adv = app.api_login("advocate@ngo.test").await;
    let agent = app.api_login("agent@retour.test").await;
    let kinds = |c: &reqwest::Client| {
        let c = c.clone();
        let url = app.url("/api/v1/notifications");
        async move {
            let (st, v) = get(&c, url).await;
            assert_eq!(st, 200, "{v}");
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| {
                    (
                        n["kind"].as_str().unwrap().to_owned(),
                        n["link"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let reference = app.create_case(&adv, "Citizenship Refused-Person").await;
    let ret = |p: &str| app.url(&format!("/api/v1/cases/{reference}/return{p}"));
    let k = consent(&app, &adv, &reference, "return_assistance").await;
    let (st, v) = send(
        &adv,
        "POST",
        ret(""),
        json!({"requested_by": "person", "consent_id": k,
        "explained_by": "counsellor", "destination_country": "NG", "agency_org_id": w.returns}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (st, q) = send(
        &adv,
        "POST",
        ret("/citizenship"),
        json!({"authority": "Embassy of Nigeria"}),
    )
    .await;
    assert_eq!(st, 201, "{q}");
    let qid = q["id"].as_str().unwrap();
    // The agency's officer records the refusal: the advocate is told.
    let (st, v) = send(
        &agent,
        "POST",
        ret(&format!("/citizenship/{qid}/answer")),
        json!({"answer": "refused"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let link = format!("/cases/{reference}/return");
    assert!(
        kinds(&adv)
            .await
            .contains(&("citizenship_not_confirmed".to_owned(), link.clone())),
        "{:?}",
        kinds(&adv).await
    );
    // The person withdraws their consent: the return stops, the agency is told.
    let before = kinds(&agent).await.len();
    let (st, e) = send(&adv, "POST", ret("/withdraw-consent"), json!({})).await;
    assert_eq!(st, 204, "{e}");
    let after = kinds(&agent).await;
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert_eq!(after[0], ("return_stage_changed".to_owned(), link));
}
