//! Use cases: load, check access, apply a rule, save, audit, in one transaction.
//! Handlers in `web` call these and nothing below them.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod data;
pub mod deadlines;
pub mod demo;
pub mod erasure;
pub mod follow_up;
pub mod funding;
pub mod identification;
pub mod keys;
pub mod notify;
pub mod referrals;
pub mod returns;
pub mod signin;
pub mod trial;
pub mod two_factor;

use crate::crypto::{CryptoError, KeyRing};
use crate::domain::{Invalid, Role};
use sea_orm::{DatabaseConnection, DbErr};
use std::sync::Arc;

/// The signed-in user, as established from the server-side session. The organisation
/// comes from here, never from a header or a form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub org_id: i64,
    pub role: Role,
    pub display_name: String,
    pub email: String,
}

/// What went wrong in a use case. `web` maps each arm to an HTTP status and a message.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input: 422 with the field and what is wrong.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A request the server cannot read as asked (a query value out of range): 400 with
    /// the field.
    #[error("{0}")]
    BadRequest(Invalid),
    /// Unknown or invisible object: 404. Never says whether it exists elsewhere.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Visible but not allowed for this role: 403.
    #[error("{0}")]
    Forbidden(String),
    /// Stale version or duplicate: 409.
    #[error("{0}")]
    Conflict(String),
    /// A rule refused the action (e.g. a share without consent): 422 with the rule's reason.
    #[error("{0}")]
    Refused(String),
    /// Named rules refused the action: 422, like [`ServiceError::Refused`], and its message
    /// reads the same (`the return cannot move to approved: [consent] …; [risk_assessment]
    /// …`); pages say each refusal in the reader's language from its rule and arguments.
    #[error("{}", .0)]
    RulesRefused(RulesRefused),
    /// A jurisdiction or partner adapter (a plugin) failed: 503 with its message.
    #[error("{0}")]
    Port(crate::ports::PortError),
    /// Stored data failed its integrity check (tampering or wrong key).
    #[error(transparent)]
    Integrity(CryptoError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for ServiceError {
    fn from(e: DbErr) -> Self {
        // A unique constraint lost to a concurrent writer is a conflict, not a crash.
        // The database's own message is not passed on: it may quote the value.
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
            return ServiceError::Conflict(
                "this record already exists (it was just created by someone else); reload and check".into(),
            );
        }
        ServiceError::Unexpected(anyhow::Error::new(e))
    }
}

impl From<CryptoError> for ServiceError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Integrity { .. } => ServiceError::Integrity(e),
            other => ServiceError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// What was refused and every rule that refused it. `action` names what was tried
/// (`return_move`, `close_case`), `what` says it in English ("the return cannot move to
/// approved") and `args` holds the values it names (`to`), as in a
/// [`Refusal`](crate::returns::Refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesRefused {
    pub action: String,
    pub what: String,
    pub args: std::collections::BTreeMap<String, String>,
    pub refusals: Vec<crate::returns::Refusal>,
}

impl RulesRefused {
    pub fn new(
        action: &str,
        what: impl Into<String>,
        refusals: Vec<crate::returns::Refusal>,
    ) -> Self {
        Self {
            action: action.into(),
            what: what.into(),
            args: Default::default(),
            refusals,
        }
    }

    /// The same, naming `value` as `name`.
    pub fn with(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.args.insert(name.to_owned(), value.to_string());
        self
    }
}

impl std::fmt::Display for RulesRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.what)?;
        for (i, r) in self.refusals.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Policy for sign-in and sessions.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    pub idle_timeout: chrono::Duration,
    pub absolute_timeout: chrono::Duration,
    pub max_failures: i32,
    pub failure_window: chrono::Duration,
    pub lockout: chrono::Duration,
    /// The roles that must sign in with a second factor (`two_factor::DEFAULT_ROLES`).
    pub two_factor_roles: Vec<crate::domain::Role>,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: chrono::Duration::minutes(30),
            absolute_timeout: chrono::Duration::hours(12),
            max_failures: 6,
            failure_window: chrono::Duration::minutes(15),
            lockout: chrono::Duration::minutes(30),
            two_factor_roles: crate::two_factor::DEFAULT_ROLES.to_vec(),
        }
    }
}

/// Everything a use case needs: the store, the keys, the audit sink, the policy.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub keys: Arc<KeyRing>,
    pub audit: audit::AuditSink,
    pub auth_policy: AuthPolicy,
    /// Jurisdictions and partners: built-in defaults, or the plugin registry.
    pub adapters: Arc<dyn crate::ports::Adapters>,
    /// How long a referral may wait for an answer before it is flagged.
    pub referral_answer_days: i64,
    /// `[retention] erase_after_days`: how long after closing a case may be erased for
    /// the end of its retention (`crate::erasure`).
    pub retention_days: i64,
    /// Fund ledgers already folded (see `funding`).
    pub ledgers: funding::LedgerCache,
    /// Dashboard figures this node counted in the last minute (see `data::dashboard`).
    pub dashboards: data::dashboard::FigureCache,
    /// The reintegration indicator set and follow-up thresholds in force where no plugin
    /// gives its own (`config/reintegration/rss.toml`).
    /// `None` only if the embedded file does not parse (a build defect `startup` refuses
    /// to start with); every use then fails with an error, never a panic.
    pub reintegration: Option<Arc<crate::follow_up::ReintegrationConfig>>,
    /// Argon2 work, one per core at a time (see [`PasswordWork`]).
    password_work: PasswordWork,
}

impl Services {
    /// Build the services and start the audit writer on the current tokio runtime.
    pub fn new(db: DatabaseConnection, keys: Arc<KeyRing>, auth_policy: AuthPolicy) -> Self {
        let audit = audit::AuditSink::start(db.clone());
        Self {
            db,
            keys,
            audit,
            auth_policy,
            adapters: Arc::new(crate::ports::BuiltIn),
            referral_answer_days: 5,
            retention_days: 1_825,
            ledgers: funding::LedgerCache::default(),
            dashboards: data::dashboard::FigureCache::default(),
            reintegration: crate::follow_up::default_config().ok().map(Arc::new),
            password_work: PasswordWork::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        }
    }

    /// Run an Argon2 hash or check (see [`PasswordWork`]).
    pub(crate) async fn password_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        self.password_work.run(work).await
    }

    /// The configured reintegration set (see `reintegration`).
    pub(crate) fn default_reintegration(
        &self,
    ) -> Result<Arc<crate::follow_up::ReintegrationConfig>> {
        self.reintegration.clone().ok_or_else(|| {
            ServiceError::Unexpected(anyhow::anyhow!(
                "the configured reintegration indicator set (config/reintegration/rss.toml) does not parse"
            ))
        })
    }

    /// Use this reintegration configuration where no plugin gives its own.
    pub fn with_reintegration(mut self, config: crate::follow_up::ReintegrationConfig) -> Self {
        self.reintegration = Some(Arc::new(config));
        self
    }

    /// Use these adapters (e.g. the plugin registry) instead of the built-in defaults.
    pub fn with_adapters(mut self, adapters: Arc<dyn crate::ports::Adapters>) -> Self {
        self.adapters = adapters;
        self
    }

    /// Call a port off the async executor (a plugin call may take milliseconds of CPU).
    pub async fn call_port<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, crate::ports::PortError> + Send + 'static,
    ) -> Result<T> {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("adapter call failed: {e}")))?
            .map_err(ServiceError::Port)
    }
}

/// A page of a list: `{items, total, page, per_page, pages}`, the one shape of every list
/// in the API (docs/api.md).
macro_rules! page_of {
    ($(#[$m:meta])* $name:ident, $item:ty) => {
        $(#[$m])*
        #[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// How many items the whole list holds.
            pub total: u64,
            pub page: u64,
            pub per_page: u64,
            pub pages: u64,
        }

        impl $name {
            /// One page of a list held in memory.
            pub fn of(all: Vec<$item>, paging: crate::domain::Paging) -> Self {
                let total = all.len() as u64;
                Self {
                    items: paging.slice(all),
                    total,
                    page: paging.page,
                    per_page: paging.per_page,
                    pages: paging.pages(total),
                }
            }
        }
    };
}
pub(crate) use page_of;

/// Where an encrypted field lives: its table, column and row are bound to it.
pub(crate) fn at<'a>(
    table: &'static str,
    column: &'static str,
    row: &'a str,
) -> crate::crypto::FieldLocation<'a> {
    crate::crypto::FieldLocation { table, column, row }
}

impl Services {
    /// Encrypt a field bound to its table, column and row, with the data key of `org`,
    /// the organisation that owns the row (as [`crate::keys::sealed_tables`] finds it: a
    /// case's record, its case's owner; so that the re-encryption job agrees).
    pub(crate) fn seal_field(
        &self,
        org: i64,
        table: &'static str,
        column: &'static str,
        row: &str,
        v: &str,
    ) -> Result<Vec<u8>> {
        Ok(self
            .keys
            .encrypt_str_for(Some(org), at(table, column, row), v)?)
    }

    /// Encrypt an optional field, with the data key of `org` (see [`Self::seal_field`]).
    pub(crate) fn seal_opt(
        &self,
        org: i64,
        table: &'static str,
        column: &'static str,
        row: &str,
        v: Option<&str>,
    ) -> Result<Option<Vec<u8>>> {
        v.map(|s| self.seal_field(org, table, column, row, s))
            .transpose()
    }

    /// Decrypt an optional field (an integrity failure is an error, never garbage).
    pub(crate) fn open_opt(
        &self,
        table: &'static str,
        column: &'static str,
        row: &str,
        v: Option<&Vec<u8>>,
    ) -> Result<Option<String>> {
        Ok(match v {
            Some(b) => Some(self.keys.decrypt_string(at(table, column, row), b)?),
            None => None,
        })
    }
}

/// Argon2 hashes and checks on the blocking pool, at most `permits` at a time (one per
/// core): each takes 19 MiB, and more of them at once than cores only adds memory (64
/// simultaneous sign-ins held 1.3 GiB in the soak), never throughput.
#[derive(Clone)]
pub struct PasswordWork(Arc<tokio::sync::Semaphore>);

impl PasswordWork {
    pub fn new(permits: usize) -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(permits.max(1))))
    }

    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self
            .0
            .acquire()
            .await
            .map_err(|e| anyhow::anyhow!("password work: {e}"))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| anyhow::anyhow!("password work failed: {e}"))
    }
}

/// Which route an action came through, for the audit log (a route pattern, never a URL
/// with values in it beyond the case reference).
pub type Route<'a> = &'a str;

#[cfg(test)]
mod password_work_tests {
    use super::PasswordWork;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_password_work_at_once_than_permits_and_all_of_it_done() {
        let work = PasswordWork::new(2);
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let (work, now, most) = (work.clone(), now.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                work.run(move || {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    now.fetch_sub(1, Ordering::SeqCst);
                    i
                })
                .await
                .unwrap()
            }));
        }
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await.unwrap());
        }
        done.sort();
        assert_eq!(done, (0..16).collect::<Vec<_>>());
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "more than 2 at once, or never 2"
        );
    }
}
