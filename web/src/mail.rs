//! Mail (issue 13): the delivery worker that runs in every server node. It claims due
//! notifications (`Services::claim_due`: a lease; `FOR UPDATE SKIP LOCKED` on PostgreSQL),
//! renders each from templates in the recipient's language (subject, plain text and
//! HTML), sends it with lettre (SMTP with STARTTLS or TLS, or files in a directory for
//! the demo) under a stable `Message-ID`, and marks it sent, or failed with a retry later.
//! It also runs the scheduler that turns near deadlines into reminders (each created once
//! across nodes). A mail says the kind of event, the case's pseudonymous reference, the
//! organisation and a link: `passerelle_core::notify::MailFacts` has no room for more.

use crate::i18n::I18n;
use crate::render::Renderer;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use passerelle_core::Services;
use passerelle_core::notify::{MailFacts, RetryPolicy, message_id};
use passerelle_core::service::notify::Claimed;
use serde::Deserialize;
use serde_json::json;

/// `[mail]` of the configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// "smtp", "file" (one .eml file per mail in `file_dir`, for the demo) or "off".
    pub transport: String,
    pub host: String,
    pub port: u16,
    /// "starttls", "tls" or "none" (only for a server on this machine).
    pub security: String,
    /// The names of the environment variables holding the SMTP credentials (never the
    /// credentials themselves in a file); empty: no authentication.
    pub username_env: String,
    pub password_env: String,
    pub from: String,
    /// The right-hand side of every `Message-ID`.
    pub message_id_domain: String,
    /// Where links point (the address people open Passerelle at), without a final `/`.
    pub base_url: String,
    /// The directory of the file transport; empty: `<data_dir>/outbox`.
    pub file_dir: String,
    /// How often the worker looks for due messages, in milliseconds.
    pub poll_ms: u64,
    /// How long a claimed message is this node's before another may take it, in seconds.
    pub lease_secs: i64,
    /// Messages claimed at once.
    pub batch: u32,
    pub max_attempts: u32,
    pub first_retry_secs: i64,
    pub max_retry_secs: i64,
    /// How often the scheduler turns near deadlines into reminders, in seconds.
    pub schedule_secs: u64,
    /// A daily digest gathers what waited this long (seconds; a day).
    pub digest_secs: i64,
    /// Stored deadlines and follow-up visits are reminded this many days ahead.
    pub remind_deadline_days: i64,
    /// Hearings that need the person are reminded this many days ahead.
    pub remind_hearing_days: i64,
}

impl MailSettings {
    pub fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            first_delay_secs: self.first_retry_secs.max(1),
            max_delay_secs: self.max_retry_secs.max(1),
        }
    }
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// A failed send: the server's words, and whether retrying can help.
struct SendError {
    message: String,
    permanent: bool,
}

impl Transport {
    fn build(s: &MailSettings, data_dir: &std::path::Path) -> anyhow::Result<Option<Self>> {
        Ok(match s.transport.as_str() {
            "off" => None,
            "file" => {
                let dir = if s.file_dir.trim().is_empty() {
                    data_dir.join("outbox")
                } else {
                    std::path::PathBuf::from(&s.file_dir)
                };
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("mail outbox {}: {e}", dir.display()))?;
                Some(Transport::File(AsyncFileTransport::new(dir)))
            }
            "smtp" => {
                let mut b = match s.security.as_str() {
                    "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)?,
                    "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)?,
                    "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
                    other => anyhow::bail!(
                        "configuration: mail.security must be starttls, tls or none, not {other:?}"
                    ),
                }
                .port(s.port);
                if !s.username_env.trim().is_empty() {
                    let user = std::env::var(&s.username_env).map_err(|_| {
                        anyhow::anyhow!(
                            "mail: the environment variable {} is not set",
                            s.username_env
                        )
                    })?;
                    let pass = std::env::var(&s.password_env).map_err(|_| {
                        anyhow::anyhow!(
                            "mail: the environment variable {} is not set",
                            s.password_env
                        )
                    })?;
                    b = b.credentials(Credentials::new(user, pass));
                }
                Some(Transport::Smtp(b.build()))
            }
            other => anyhow::bail!(
                "configuration: mail.transport must be smtp, file or off, not {other:?}"
            ),
        })
    }

    async fn send(&self, m: Message) -> Result<(), SendError> {
        match self {
            Transport::Smtp(t) => t.send(m).await.map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Transport::File(t) => t.send(m).await.map(|_| ()).map_err(|e| SendError {
                permanent: false,
                message: e.to_string(),
            }),
        }
    }
}

/// What the mail of one notification says, in its recipient's language.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Render a notification: subject, plain text and HTML, from `mail_text` and `mail_html`
/// (embedded, overridable like the pages) and the messages `mail-subject-<kind>` and
/// `mail-body-<kind>`.
pub fn render(
    i18n: &I18n,
    renderer: &Renderer,
    base_url: &str,
    c: &Claimed,
) -> anyhow::Result<Rendered> {
    let lang = if i18n.supports(&c.lang) {
        c.lang.as_str()
    } else {
        "en"
    };
    let facts = MailFacts {
        kind: c.kind,
        reference: c.reference.clone(),
        organisation: c.from_org.clone(),
        link: format!("{}{}", base_url.trim_end_matches('/'), c.link),
    };
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("reference", facts.reference.clone().unwrap_or_default());
    args.set("org", facts.organisation.clone());
    args.set("n", c.items.len());
    let subject = i18n.t(
        lang,
        &format!("mail-subject-{}", facts.kind.as_str()),
        Some(&args),
    );
    let body = i18n.t(
        lang,
        &format!("mail-body-{}", facts.kind.as_str()),
        Some(&args),
    );
    let items: Vec<serde_json::Value> = c
        .items
        .iter()
        .map(|(k, r)| {
            json!({
                "kind": i18n.t(lang, &format!("notification-kind-{}", k.as_str()), None),
                "reference": r,
            })
        })
        .collect();
    let data = json!({
        "lang": lang,
        "items": items,
        "subject": subject,
        "body": body,
        "reference": facts.reference,
        "organisation": facts.organisation,
        "link": facts.link,
    });
    Ok(Rendered {
        text: renderer.mail("mail_text", data.clone())?,
        html: renderer.mail("mail_html", data)?,
        subject,
    })
}

/// Build the message of a notification.
pub fn message(s: &MailSettings, c: &Claimed, r: Rendered) -> anyhow::Result<Message> {
    let from: Mailbox = s
        .from
        .parse()
        .map_err(|e| anyhow::anyhow!("configuration: mail.from: {e}"))?;
    let to: Mailbox = c
        .email
        .parse()
        .map_err(|e| anyhow::anyhow!("the recipient's address: {e}"))?;
    Ok(Message::builder()
        .from(from)
        .to(to)
        .subject(r.subject)
        .message_id(Some(message_id(&c.id, &s.message_id_domain)))
        .multipart(MultiPart::alternative_plain_html(r.text, r.html))?)
}

/// Deliver what is due once: claim, render, send, mark. The number of messages sent.
async fn deliver_once(
    services: &Services,
    i18n: &I18n,
    renderer: &Renderer,
    settings: &MailSettings,
    transport: &Transport,
    node: &str,
) -> anyhow::Result<usize> {
    let lease = chrono::Duration::seconds(settings.lease_secs.max(5));
    let claimed = services
        .claim_due(node, lease, settings.batch.max(1))
        .await
        .map_err(|e| anyhow::anyhow!("claiming mail: {e}"))?;
    // Render every message first, then send up to SEND_AT_ONCE at a time over the
    // transport's connection pool: one SMTP exchange waits mostly on the network, so
    // sending one after another leaves the node idle (docs/benchmarks.md, "Notifications").
    let mut ready = Vec::with_capacity(claimed.len());
    for c in claimed {
        let m =
            render(i18n, renderer, &settings.base_url, &c).and_then(|r| message(settings, &c, r));
        ready.push((c.id, m));
    }
    let mut sent = 0;
    let mut rest = ready.into_iter();
    loop {
        let chunk: Vec<_> = rest.by_ref().take(SEND_AT_ONCE).collect();
        if chunk.is_empty() {
            break;
        }
        let mut set = tokio::task::JoinSet::new();
        for (id, m) in chunk {
            let t = transport.clone();
            set.spawn(async move {
                let outcome = match m {
                    Ok(m) => t.send(m).await,
                    Err(e) => Err(SendError {
                        message: e.to_string(),
                        permanent: true,
                    }),
                };
                (id, outcome)
            });
        }
        while let Some(done) = set.join_next().await {
            let Ok((id, outcome)) = done else { continue };
            match outcome {
                Ok(()) => {
                    if services.mark_sent(&id, node).await.unwrap_or(false) {
                        sent += 1;
                    }
                }
                Err(e) => {
                    tracing::warn!(notification = %id, permanent = e.permanent, "mail not sent");
                    let _ = services
                        .mark_failed(&id, node, &e.message, e.permanent, settings.retry())
                        .await;
                }
            }
        }
    }
    Ok(sent)
}

/// How many messages one node hands to the mail server at once.
const SEND_AT_ONCE: usize = 8;

/// Start the worker (and the scheduler) of this node; with mail off, the scheduler alone.
/// Its handle, to stop it (as the tests do, to play a node that dies).
pub fn spawn_worker(
    state: actix_web::web::Data<crate::http::AppState>,
    settings: MailSettings,
    data_dir: &std::path::Path,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    // With mail off the scheduler still runs: its reminders are in the app too.
    let transport = Transport::build(&settings, data_dir)?;
    let windows = passerelle_core::notify::ReminderWindows::parse(
        settings.remind_deadline_days,
        settings.remind_hearing_days,
    )
    .map_err(|e| anyhow::anyhow!("[mail] {}: {}", e.field, e.message))?;
    let node = crate::startup::node_id();
    Ok(Some(tokio::spawn(async move {
        let poll = std::time::Duration::from_millis(settings.poll_ms.max(10));
        let every = std::time::Duration::from_secs(settings.schedule_secs.max(1));
        let mut last_schedule: Option<std::time::Instant> = None;
        loop {
            if last_schedule.is_none_or(|t| t.elapsed() >= every) {
                last_schedule = Some(std::time::Instant::now());
                let now = chrono::Utc::now();
                if let Err(e) = state.services.schedule_reminders(now, windows).await {
                    tracing::warn!(error = %e, "reminders not scheduled");
                }
                let interval = chrono::Duration::seconds(settings.digest_secs.max(1));
                if let Err(e) = state.services.make_digests(now, interval).await {
                    tracing::warn!(error = %e, "digests not made");
                }
            }
            let Some(transport) = &transport else {
                tokio::time::sleep(every).await;
                continue;
            };
            let (services, i18n, renderer) = (&state.services, &state.i18n, &state.render);
            match deliver_once(services, i18n, renderer, &settings, transport, &node).await {
                // A full batch: there may be more; go on at once.
                Ok(n) if n as u32 >= settings.batch.max(1) => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail delivery"),
            }
            tokio::time::sleep(poll).await;
        }
    })))
}

/// Send one test message to `to` through the configured transport, at once (not through
/// the outbox): `passerelle mail test --to ADDRESS`. It says nothing but that it is a test.
pub async fn send_test(
    s: &MailSettings,
    data_dir: &std::path::Path,
    to: &str,
) -> anyhow::Result<String> {
    let Some(transport) = Transport::build(s, data_dir)? else {
        anyhow::bail!("mail is off (mail.transport = \"off\"): set it to smtp or file first");
    };
    let from: Mailbox = s
        .from
        .parse()
        .map_err(|e| anyhow::anyhow!("configuration: mail.from: {e}"))?;
    let to_box: Mailbox = to
        .parse()
        .map_err(|e| anyhow::anyhow!("the address {to:?}: {e}"))?;
    let id = passerelle_core::crypto::random_token(16)?;
    let m = Message::builder()
        .from(from)
        .to(to_box)
        .subject("[Passerelle] Test message")
        .message_id(Some(message_id(&id, &s.message_id_domain)))
        .body(String::from(
            "This is a test message from Passerelle: mail is set up and reaches this address.\n",
        ))?;
    transport
        .send(m)
        .await
        .map_err(|e| anyhow::anyhow!("not sent: {}", e.message))?;
    Ok(match s.transport.as_str() {
        "file" => format!(
            "test message written to the outbox ({})",
            if s.file_dir.trim().is_empty() {
                data_dir.join("outbox").display().to_string()
            } else {
                s.file_dir.clone()
            }
        ),
        _ => format!("test message sent to {to} through {}:{}", s.host, s.port),
    })
}
