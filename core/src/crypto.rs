//! Field encryption (XChaCha20-Poly1305 with table/column/row as associated data),
//! the keyed blind index for exact-match search, and password hashing (Argon2id).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::Sha256;
use std::path::Path;

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

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

/// The two keys: one for the AEAD, one for the blind index. Never in the database.
pub struct KeyRing {
    aead: SecretBox<[u8; 32]>,
    index: SecretBox<[u8; 32]>,
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
        Ok(Self {
            aead: SecretBox::new(Box::new(a)),
            index: SecretBox::new(Box::new(i)),
        })
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

    pub fn encrypt(&self, at: FieldLocation<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = XChaCha20Poly1305::new(self.aead.expose_secret().into());
        let nonce = random_bytes::<NONCE_LEN>()?;
        let aad = at.aad();
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Random)?;
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
        if blob.len() < 1 + NONCE_LEN + 16 || blob[0] != FORMAT_V1 {
            return Err(bad());
        }
        let cipher = XChaCha20Poly1305::new(self.aead.expose_secret().into());
        let aad = at.aad();
        cipher
            .decrypt(
                XNonce::from_slice(&blob[1..1 + NONCE_LEN]),
                Payload {
                    msg: &blob[1 + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| bad())
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
