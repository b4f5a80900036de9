//! Field encryption (XChaCha20-Poly1305 with table/column/row as associated data),
//! the keyed blind index for exact-match search, and password hashing (Argon2id).
//!
//! Envelope encryption: the master key (the key file, or `security.key`) encrypts no
//! field itself. It wraps the *data keys*, one current key per organisation plus one for
//! the deployment's own rows, kept wrapped in the database (`data_keys`,
//! `data_key_wraps`). A field is sealed with its organisation's current data key; the
//! ciphertext names the key (format 2), so a key that is retired still opens what it
//! sealed until the re-encryption job has moved every field off it. Format 1 (fields
//! sealed by the master key directly, before data keys existed) still opens, through the
//! legacy data key 0 that holds that key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::Sha256;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{PoisonError, RwLock};

const FORMAT_V1: u8 = 1;
const FORMAT_V2: u8 = 2;
const NONCE_LEN: usize = 24;
const KEY_ID_LEN: usize = 4;

/// A data key's number, written into every ciphertext it seals (format 2).
pub type KeyId = u32;

/// The legacy data key: the master key's own AEAD half, which sealed format 1 fields.
pub const LEGACY_KEY: KeyId = 0;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "the encrypted field {table}.{column} failed its integrity check (it was altered, moved from another record, or the key is wrong)"
    )]
    Integrity {
        table: &'static str,
        column: &'static str,
    },
    #[error("the key material is invalid: {0}")]
    Key(String),
    #[error("the system random number generator failed")]
    Random,
    #[error(
        "the data key {0} is not loaded on this node (it was created in the last seconds, or this node's master key does not unwrap it)"
    )]
    UnknownKey(KeyId),
}

/// Where a ciphertext lives. Bound as associated data so a ciphertext cannot be moved.
#[derive(Debug, Clone, Copy)]
pub struct FieldLocation<'a> {
    pub table: &'static str,
    pub column: &'static str,
    pub row: &'a str,
}

impl FieldLocation<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("passerelle:v1|{}|{}|{}", self.table, self.column, self.row).into_bytes()
    }
}

/// The master key (its AEAD half wraps the data keys; its other half keys the blind
/// index) and the data keys unwrapped on this node. The master key is never in the
/// database; data keys are there only wrapped.
pub struct KeyRing {
    aead: SecretBox<[u8; 32]>,
    index: SecretBox<[u8; 32]>,
    master_id: String,
    data: RwLock<HashMap<KeyId, DataKey>>,
}

/// One unwrapped data key and what decides when it seals.
struct DataKey {
    key: SecretBox<[u8; 32]>,
    org: Option<i64>,
    active_from: chrono::DateTime<chrono::Utc>,
    retired: bool,
}

/// What is known of a data key, besides its secret (for `key status` and the job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKeyInfo {
    pub id: KeyId,
    pub org: Option<i64>,
    pub active_from: chrono::DateTime<chrono::Utc>,
    pub retired: bool,
}

/// The id of the data key that sealed a blob (format 1: the legacy key), if it is one.
pub fn sealed_by(blob: &[u8]) -> Option<KeyId> {
    match blob.first() {
        Some(&FORMAT_V1) => Some(LEGACY_KEY),
        Some(&FORMAT_V2) if blob.len() > 1 + KEY_ID_LEN => {
            let mut b = [0u8; KEY_ID_LEN];
            b.copy_from_slice(&blob[1..1 + KEY_ID_LEN]);
            Some(KeyId::from_be_bytes(b))
        }
        _ => None,
    }
}

fn wrap_aad(id: KeyId, org: Option<i64>) -> Vec<u8> {
    match org {
        Some(o) => format!("passerelle:data-key|{id}|{o}").into_bytes(),
        None => format!("passerelle:data-key|{id}|-").into_bytes(),
    }
}

fn seal_with(
    key: &[u8; 32],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = random_bytes::<NONCE_LEN>()?;
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Random)?;
    Ok((nonce.to_vec(), ct))
}

fn open_with(key: &[u8; 32], aad: &[u8], nonce: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing(..)")
    }
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| CryptoError::Random)?;
    Ok(b)
}

/// A random token as lowercase hex (for session ids, CSRF tokens, row ids).
pub fn random_token(bytes: usize) -> Result<String, CryptoError> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|_| CryptoError::Random)?;
    Ok(hex::encode(b))
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(data))
}

impl KeyRing {
    /// Parse from the hex form: 128 hex characters (64 bytes: AEAD key then index key).
    pub fn from_hex(s: &SecretString) -> Result<Self, CryptoError> {
        let raw = hex::decode(s.expose_secret().trim())
            .map_err(|_| CryptoError::Key("the key must be 128 hexadecimal characters".into()))?;
        if raw.len() != 64 {
            return Err(CryptoError::Key(format!(
                "the key must be 64 bytes (128 hex characters), found {} bytes",
                raw.len()
            )));
        }
        let mut a = [0u8; 32];
        let mut i = [0u8; 32];
        a.copy_from_slice(&raw[..32]);
        i.copy_from_slice(&raw[32..]);
        let master_id = master_id_of(&a);
        Ok(Self {
            aead: SecretBox::new(Box::new(a)),
            index: SecretBox::new(Box::new(i)),
            master_id,
            data: RwLock::new(HashMap::new()),
        })
    }

    /// A public name for this master key (16 hex characters of an HMAC under it): which
    /// master key wraps a data key, and what `key retire` is told. Reveals nothing of it.
    pub fn master_id(&self) -> &str {
        &self.master_id
    }

    /// A successor master key in hex, for `key rotate`: a new random AEAD half, the same
    /// blind index half (the indexes stay valid; see ARCHITECTURE.md).
    pub fn successor_hex(&self) -> Result<SecretString, CryptoError> {
        let mut raw = random_bytes::<32>()?.to_vec();
        raw.extend_from_slice(self.index.expose_secret());
        Ok(SecretString::from(hex::encode(raw)))
    }

    /// Does `other` keep this key's blind index half (so the indexes stay valid)?
    pub fn same_index_key(&self, other: &KeyRing) -> bool {
        self.index.expose_secret() == other.index.expose_secret()
    }

    /// A fresh random data key.
    pub fn new_data_key() -> Result<SecretBox<[u8; 32]>, CryptoError> {
        Ok(SecretBox::new(Box::new(random_bytes::<32>()?)))
    }

    /// The legacy data key: the AEAD half of this master key, which sealed format 1.
    pub fn legacy_data_key(&self) -> SecretBox<[u8; 32]> {
        SecretBox::new(Box::new(*self.aead.expose_secret()))
    }

    /// Wrap a data key under this master key, bound to its id and organisation.
    pub fn wrap(
        &self,
        id: KeyId,
        org: Option<i64>,
        key: &SecretBox<[u8; 32]>,
    ) -> Result<Vec<u8>, CryptoError> {
        let (nonce, ct) = seal_with(
            self.aead.expose_secret(),
            &wrap_aad(id, org),
            key.expose_secret(),
        )?;
        let mut out = nonce;
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Unwrap a data key wrapped under this master key.
    pub fn unwrap_key(
        &self,
        id: KeyId,
        org: Option<i64>,
        wrapped: &[u8],
    ) -> Result<SecretBox<[u8; 32]>, CryptoError> {
        let bad = || {
            CryptoError::Key(format!(
                "the data key {id} does not unwrap under the master key {}",
                self.master_id
            ))
        };
        if wrapped.len() != NONCE_LEN + 32 + 16 {
            return Err(bad());
        }
        let raw = open_with(
            self.aead.expose_secret(),
            &wrap_aad(id, org),
            &wrapped[..NONCE_LEN],
            &wrapped[NONCE_LEN..],
        )
        .ok_or_else(bad)?;
        let mut k = [0u8; 32];
        k.copy_from_slice(&raw);
        Ok(SecretBox::new(Box::new(k)))
    }

    /// Make a data key usable on this node (replacing what was known of it).
    pub fn install(&self, info: DataKeyInfo, key: SecretBox<[u8; 32]>) {
        let mut data = self.data.write().unwrap_or_else(PoisonError::into_inner);
        data.insert(
            info.id,
            DataKey {
                key,
                org: info.org,
                active_from: info.active_from,
                retired: info.retired,
            },
        );
    }

    /// Keep only these data keys (a key destroyed in the database goes from memory too).
    pub fn retain_keys(&self, ids: &[KeyId]) {
        let mut data = self.data.write().unwrap_or_else(PoisonError::into_inner);
        data.retain(|id, _| ids.contains(id));
    }

    /// The data keys this node holds, without their secrets, by id.
    pub fn data_keys(&self) -> Vec<DataKeyInfo> {
        let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<DataKeyInfo> = data
            .iter()
            .map(|(id, k)| DataKeyInfo {
                id: *id,
                org: k.org,
                active_from: k.active_from,
                retired: k.retired,
            })
            .collect();
        v.sort_by_key(|k| k.id);
        v
    }

    /// The data key that seals for `org` now: its newest active key that is not retired,
    /// else the deployment's; while a successor is not active yet, the retired key it
    /// replaces still seals (the job re-seals those fields). None when no data key is
    /// loaded (a key ring used without a database: fields are then sealed in format 1 by
    /// the master key).
    pub fn sealing_key(&self, org: Option<i64>) -> Option<KeyId> {
        let now = chrono::Utc::now();
        let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
        let newest = |o: Option<i64>, retired: bool| {
            data.iter()
                .filter(|(id, k)| {
                    **id != LEGACY_KEY && k.org == o && k.retired == retired && k.active_from <= now
                })
                .map(|(id, _)| *id)
                .max()
        };
        let pick = |retired: bool| {
            org.and_then(|o| newest(Some(o), retired))
                .or_else(|| newest(None, retired))
        };
        pick(false).or_else(|| pick(true))
    }

    /// Seal a field with `org`'s data key (format 2), or with the master key in format 1
    /// when this key ring holds no data key.
    pub fn encrypt_for(
        &self,
        org: Option<i64>,
        at: FieldLocation<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let Some(id) = self.sealing_key(org) else {
            return self.encrypt_v1(at, plaintext);
        };
        let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
        let key = data.get(&id).ok_or(CryptoError::UnknownKey(id))?;
        let (nonce, ct) = seal_with(key.key.expose_secret(), &at.aad(), plaintext)?;
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + ct.len());
        out.push(FORMAT_V2);
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn encrypt_str_for(
        &self,
        org: Option<i64>,
        at: FieldLocation<'_>,
        s: &str,
    ) -> Result<Vec<u8>, CryptoError> {
        self.encrypt_for(org, at, s.as_bytes())
    }

    /// Does this blob need re-sealing: is its key retired, legacy, or unknown here?
    pub fn needs_reseal(&self, blob: &[u8]) -> bool {
        match sealed_by(blob) {
            None => false,
            Some(LEGACY_KEY) => true,
            Some(id) => {
                let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
                data.get(&id).is_none_or(|k| k.retired)
            }
        }
    }

    /// The organisation of the data key that sealed a blob (None: the deployment's key,
    /// the legacy key, or unknown).
    pub fn org_of(&self, blob: &[u8]) -> Option<i64> {
        let id = sealed_by(blob)?;
        let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
        data.get(&id).and_then(|k| k.org)
    }

    pub fn generate_hex() -> Result<SecretString, CryptoError> {
        Ok(SecretString::from(hex::encode(random_bytes::<64>()?)))
    }

    /// Load the key file, creating it (mode 0600) on first start.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        if path.exists() {
            let s = std::fs::read_to_string(path).map_err(|e| {
                CryptoError::Key(format!("cannot read key file {}: {e}", path.display()))
            })?;
            return Self::from_hex(&SecretString::from(s));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| CryptoError::Key(format!("cannot create {}: {e}", dir.display())))?;
        }
        let hexkey = Self::generate_hex()?;
        write_private(path, hexkey.expose_secret().as_bytes()).map_err(|e| {
            CryptoError::Key(format!("cannot write key file {}: {e}", path.display()))
        })?;
        Self::from_hex(&hexkey)
    }

    /// Seal a field of the deployment's own (no organisation's): `encrypt_for(None, ..)`.
    pub fn encrypt(&self, at: FieldLocation<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.encrypt_for(None, at, plaintext)
    }

    /// Format 1: sealed by the master key's AEAD half directly (a key ring without data
    /// keys; and what the legacy data key opens).
    fn encrypt_v1(&self, at: FieldLocation<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (nonce, ct) = seal_with(self.aead.expose_secret(), &at.aad(), plaintext)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn decrypt(&self, at: FieldLocation<'_>, blob: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let bad = || CryptoError::Integrity {
            table: at.table,
            column: at.column,
        };
        let aad = at.aad();
        match blob.first() {
            Some(&FORMAT_V1) if blob.len() >= 1 + NONCE_LEN + 16 => {
                let (nonce, ct) = blob[1..].split_at(NONCE_LEN);
                let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
                let key = match data.get(&LEGACY_KEY) {
                    Some(k) => k.key.expose_secret(),
                    None => self.aead.expose_secret(),
                };
                open_with(key, &aad, nonce, ct).ok_or_else(bad)
            }
            Some(&FORMAT_V2) if blob.len() >= 1 + KEY_ID_LEN + NONCE_LEN + 16 => {
                let id = sealed_by(blob).ok_or_else(bad)?;
                let (nonce, ct) = blob[1 + KEY_ID_LEN..].split_at(NONCE_LEN);
                let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
                let key = data.get(&id).ok_or(CryptoError::UnknownKey(id))?;
                open_with(key.key.expose_secret(), &aad, nonce, ct).ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }

    pub fn encrypt_str(&self, at: FieldLocation<'_>, s: &str) -> Result<Vec<u8>, CryptoError> {
        self.encrypt(at, s.as_bytes())
    }

    pub fn decrypt_string(
        &self,
        at: FieldLocation<'_>,
        blob: &[u8],
    ) -> Result<String, CryptoError> {
        let bytes = self.decrypt(at, blob)?;
        String::from_utf8(bytes).map_err(|_| CryptoError::Integrity {
            table: at.table,
            column: at.column,
        })
    }

    /// Keyed blind index of a normalised value (HMAC-SHA-256, truncated to 16 bytes):
    /// exact match only; reveals equality, nothing else.
    pub fn blind_index(&self, purpose: &str, value: &str) -> String {
        let normalised: String = value
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        // HMAC accepts keys of any length, so this cannot fail; fall back to an empty index otherwise.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.index.expose_secret()) else {
            return String::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

fn master_id_of(aead: &[u8; 32]) -> String {
    match <Hmac<Sha256> as Mac>::new_from_slice(aead) {
        Ok(mut mac) => {
            mac.update(b"passerelle:master-key-id");
            hex::encode(&mac.finalize().into_bytes()[..8])
        }
        Err(_) => String::new(),
    }
}

/// Write a new key file (mode 0600); refuses to overwrite one.
pub fn write_key_file(path: &Path, hexkey: &SecretString) -> Result<(), CryptoError> {
    write_private(path, hexkey.expose_secret().as_bytes())
        .map_err(|e| CryptoError::Key(format!("cannot write key file {}: {e}", path.display())))
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1). Blocking: call off the executor.
pub fn hash_password(password: &SecretString) -> anyhow::Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| anyhow::anyhow!("salt encoding failed: {e}"))?;
    let hash = argon2::Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// Verify a password against a PHC string. Blocking: call off the executor.
pub fn verify_password(password: &SecretString, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::from_hex(&SecretString::from("ab".repeat(64))).unwrap()
    }
    const AT: FieldLocation<'static> = FieldLocation {
        table: "persons",
        column: "name",
        row: "r1",
    };

    #[test]
    fn round_trip() {
        let k = ring();
        let ct = k.encrypt_str(AT, "Amina Diallo").unwrap();
        assert!(!ct.windows(5).any(|w| w == b"Amina"));
        assert_eq!(k.decrypt_string(AT, &ct).unwrap(), "Amina Diallo");
    }

    #[test]
    fn tampering_and_moving_fail() {
        let k = ring();
        let mut ct = k.encrypt_str(AT, "Amina").unwrap();
        let moved = FieldLocation { row: "r2", ..AT };
        assert!(matches!(
            k.decrypt(moved, &ct),
            Err(CryptoError::Integrity { .. })
        ));
        let other_col = FieldLocation {
            column: "notes",
            ..AT
        };
        assert!(k.decrypt(other_col, &ct).is_err());
        let last = ct.len() - 1;
        ct[last] ^= 1;
        let err = k.decrypt(AT, &ct).unwrap_err().to_string();
        assert!(err.contains("persons.name"), "{err}");
        assert!(k.decrypt(AT, &[1, 2, 3]).is_err());
    }

    #[test]
    fn blind_index_normalises_and_is_keyed() {
        let k = ring();
        assert_eq!(
            k.blind_index("name", "Amina  Diallo"),
            k.blind_index("name", " amina diallo")
        );
        assert_ne!(
            k.blind_index("name", "Amina"),
            k.blind_index("name", "Amine")
        );
        assert_ne!(
            k.blind_index("name", "Amina"),
            k.blind_index("alias", "Amina")
        );
        let other = KeyRing::from_hex(&SecretString::from("cd".repeat(64))).unwrap();
        assert_ne!(
            k.blind_index("name", "Amina"),
            other.blind_index("name", "Amina")
        );
    }

    fn info(id: KeyId, org: Option<i64>, secs_from_now: i64, retired: bool) -> DataKeyInfo {
        DataKeyInfo {
            id,
            org,
            active_from: chrono::Utc::now() + chrono::Duration::seconds(secs_from_now),
            retired,
        }
    }

    #[test]
    fn data_keys_wrap_under_the_master_key_bound_to_their_id_and_organisation() {
        let k = ring();
        let dek = KeyRing::new_data_key().unwrap();
        let w = k.wrap(7, Some(3), &dek).unwrap();
        assert!(!w.windows(8).any(|x| x == &dek.expose_secret()[..8]));
        let back = k.unwrap_key(7, Some(3), &w).unwrap();
        assert_eq!(back.expose_secret(), dek.expose_secret());
        assert!(k.unwrap_key(8, Some(3), &w).is_err(), "moved to another id");
        assert!(
            k.unwrap_key(7, Some(4), &w).is_err(),
            "moved to another organisation"
        );
        assert!(k.unwrap_key(7, None, &w).is_err());
        let other = KeyRing::from_hex(&SecretString::from("cd".repeat(64))).unwrap();
        assert!(
            other.unwrap_key(7, Some(3), &w).is_err(),
            "another master key"
        );
        assert_ne!(k.master_id(), other.master_id());
        assert_eq!(k.master_id().len(), 16);
    }

    #[test]
    fn each_organisation_seals_with_its_own_newest_active_key() {
        let k = ring();
        // No data key: format 1, by the master key.
        let v1 = k.encrypt_for(Some(1), AT, b"Amina").unwrap();
        assert_eq!(v1[0], FORMAT_V1);
        assert_eq!(sealed_by(&v1), Some(LEGACY_KEY));
        let key2 = random_bytes::<32>().unwrap();
        let sb = |k: [u8; 32]| SecretBox::new(Box::new(k));
        k.install(info(1, None, -60, false), KeyRing::new_data_key().unwrap());
        k.install(info(2, Some(10), -60, false), sb(key2));
        k.install(
            info(3, Some(10), 60, false),
            KeyRing::new_data_key().unwrap(),
        );
        k.install(
            info(4, Some(20), -60, true),
            KeyRing::new_data_key().unwrap(),
        );
        // Organisation 10: key 2 (key 3 is not active yet); 20 has only a retired key and
        // 30 none: the deployment's key 1 (a retired key seals only when nothing else can).
        assert_eq!(k.sealing_key(Some(10)), Some(2));
        assert_eq!(k.sealing_key(Some(20)), Some(1));
        assert_eq!(k.sealing_key(Some(30)), Some(1));
        assert_eq!(k.sealing_key(None), Some(1));
        let b = k.encrypt_str_for(Some(10), AT, "Amina").unwrap();
        assert_eq!(sealed_by(&b), Some(2));
        assert_eq!(k.org_of(&b), Some(10));
        assert_eq!(k.decrypt_string(AT, &b).unwrap(), "Amina");
        assert!(!k.needs_reseal(&b));
        // Key 3 becomes active and key 2 is retired: key 3 seals; what key 2 sealed still
        // opens, and needs re-sealing; once key 2 is destroyed, it no longer opens.
        k.install(
            info(3, Some(10), -1, false),
            KeyRing::new_data_key().unwrap(),
        );
        k.install(info(2, Some(10), -60, true), sb(key2));
        assert_eq!(k.sealing_key(Some(10)), Some(3));
        assert_eq!(k.decrypt_string(AT, &b).unwrap(), "Amina");
        assert!(k.needs_reseal(&b));
        assert!(k.needs_reseal(&v1), "format 1 is always re-sealed");
        k.retain_keys(&[1, 3]);
        assert!(matches!(k.decrypt(AT, &b), Err(CryptoError::UnknownKey(2))));
        // A format 2 blob moved to another row fails like format 1 does.
        let b3 = k.encrypt_str_for(Some(30), AT, "Amina").unwrap();
        let moved = FieldLocation { row: "r2", ..AT };
        assert!(matches!(
            k.decrypt(moved, &b3),
            Err(CryptoError::Integrity { .. })
        ));
    }

    #[test]
    fn format_1_opens_through_the_legacy_key_once_the_master_key_is_replaced() {
        let old = ring();
        let v1 = old.encrypt_str(AT, "Amina").unwrap();
        let new = KeyRing::from_hex(&old.successor_hex().unwrap()).unwrap();
        assert!(old.same_index_key(&new));
        assert_ne!(old.master_id(), new.master_id());
        assert_eq!(
            old.blind_index("person-name", "Amina"),
            new.blind_index("person-name", "Amina")
        );
        // The legacy key, wrapped under the old master, re-wrapped under the new one.
        let w_old = old.wrap(LEGACY_KEY, None, &old.legacy_data_key()).unwrap();
        let legacy = old.unwrap_key(LEGACY_KEY, None, &w_old).unwrap();
        let w_new = new.wrap(LEGACY_KEY, None, &legacy).unwrap();
        assert!(
            new.decrypt(AT, &v1).is_err(),
            "the new master key alone does not open format 1"
        );
        new.install(
            info(LEGACY_KEY, None, -60, true),
            new.unwrap_key(LEGACY_KEY, None, &w_new).unwrap(),
        );
        assert_eq!(new.decrypt_string(AT, &v1).unwrap(), "Amina");
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(KeyRing::from_hex(&SecretString::from("zz")).is_err());
        assert!(KeyRing::from_hex(&SecretString::from("ab".repeat(10))).is_err());
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password(&SecretString::from("correct horse")).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&SecretString::from("correct horse"), &h));
        assert!(!verify_password(&SecretString::from("wrong horse"), &h));
        assert!(!verify_password(&SecretString::from("x"), "not a hash"));
    }
}
