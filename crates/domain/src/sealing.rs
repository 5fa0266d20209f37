//! Identifying fields encrypted at rest, with a key that is not in the database.
//!
//! A [`Sealer`] holds one 256-bit key read from a file (`protection.key`, outside the
//! database: for SQLite a separate file, for PostgreSQL a file on the application server).
//! Each value is sealed with XChaCha20-Poly1305 under a fresh random nonce, and bound to the
//! record it belongs to (`case:17/name`) as associated data, so a sealed value copied into
//! another record or column does not open. A copy of the database alone reveals no name;
//! a lost key makes the sealed fields unreadable, so the key is backed up apart from it.
//!
//! Exact search (a case by its document number) uses a blind index: a keyed hash (HMAC-SHA256
//! under a key derived from the same file) of the normalised value, never the value.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The prefix of a sealed value (the format's version).
const PREFIX: &str = "s1:";
const NONCE_LEN: usize = 24;

/// Why a sealed value or a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the key file {path} cannot be used: {why}")]
    Key { path: String, why: String },
    #[error("a sealed value is damaged or was sealed with another key")]
    Damaged,
}

/// Seals and opens identifying fields.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    index_key: [u8; 32],
    /// A short public fingerprint of the key (to tell which key a database needs).
    fingerprint: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer for a 32-byte key.
    pub fn new(key: [u8; 32]) -> Sealer {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update(label);
            h.update(key);
            h.finalize().into()
        };
        let fingerprint = hex::encode(&derive(b"rumbo fingerprint")[..8]);
        Sealer { cipher: XChaCha20Poly1305::new(&key.into()), index_key: derive(b"rumbo blind index"), fingerprint }
    }

    /// Reads the key file (64 hex digits), creating it with a fresh random key (readable by
    /// its owner only) when `create` is set and there is none.
    pub fn from_file(path: &Path, create: bool) -> Result<Sealer, SealError> {
        let fail = |why: String| SealError::Key { path: path.display().to_string(), why };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|_| fail("it must hold 64 hexadecimal digits".into()))?;
                let key: [u8; 32] =
                    bytes.try_into().map_err(|_| fail("it must hold 64 hexadecimal digits (32 bytes)".into()))?;
                Ok(Sealer::new(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key = random_key();
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
                }
                write_private(path, &format!("{}\n", hex::encode(key))).map_err(|e| fail(e.to_string()))?;
                tracing::warn!(path = %path.display(), "created a new protection key: back it up apart from the database");
                Ok(Sealer::new(key))
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// A short public fingerprint of the key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Seals `plain` for the place `context` (e.g. `case:17/name`).
    pub fn seal(&self, context: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);
        // Encryption only fails for messages beyond the cipher's limit (256 GiB).
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD_NO_PAD.encode(out))
    }

    /// Opens a value sealed for `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<String, SealError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(SealError::Damaged)?;
        let bytes = STANDARD_NO_PAD.decode(body).map_err(|_| SealError::Damaged)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Damaged);
        }
        let (nonce, cipher) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: cipher, aad: context.as_bytes() })
            .map_err(|_| SealError::Damaged)?;
        String::from_utf8(plain).map_err(|_| SealError::Damaged)
    }

    /// Seals a JSON value (an object of identifying fields).
    pub fn seal_json(&self, context: &str, value: &serde_json::Value) -> String {
        self.seal(context, &value.to_string())
    }

    /// Opens a sealed JSON value.
    pub fn open_json(&self, context: &str, sealed: &str) -> Result<serde_json::Value, SealError> {
        serde_json::from_str(&self.open(context, sealed)?).map_err(|_| SealError::Damaged)
    }

    /// The blind index of a value: a keyed hash of its normalised form (case, spaces and
    /// punctuation ignored), for exact search without storing the value.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        let normal: String = value.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("HMAC takes any key length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normal.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

/// A fresh random 256-bit key.
pub fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    fill_random(&mut key);
    key
}

/// Fills `out` with random bytes from the operating system.
pub fn fill_random(out: &mut [u8]) {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    OsRng.fill_bytes(out);
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_in_its_place() {
        let sealer = Sealer::new(random_key());
        let sealed = sealer.seal("case:1/name", "María Fernanda");
        assert!(!sealed.contains("María"));
        assert_eq!(sealer.open("case:1/name", &sealed).unwrap(), "María Fernanda");
        assert!(sealer.open("case:2/name", &sealed).is_err(), "moved to another record");
        assert!(Sealer::new(random_key()).open("case:1/name", &sealed).is_err(), "another key");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open("case:1/name", &tampered).is_err());
        assert_ne!(sealer.seal("x", "same"), sealer.seal("x", "same"), "a fresh nonce each time");
    }

    #[test]
    fn the_blind_index_ignores_case_and_punctuation_and_depends_on_the_key() {
        let sealer = Sealer::new(random_key());
        assert_eq!(sealer.blind_index("doc", "V-12.345.678"), sealer.blind_index("doc", "v12345678"));
        assert_ne!(sealer.blind_index("doc", "V-12.345.678"), sealer.blind_index("phone", "V-12.345.678"));
        assert_ne!(sealer.blind_index("doc", "1"), Sealer::new(random_key()).blind_index("doc", "1"));
    }

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/protection.key");
        assert!(Sealer::from_file(&path, false).is_err());
        let a = Sealer::from_file(&path, true).unwrap();
        let b = Sealer::from_file(&path, false).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let sealed = a.seal("c", "v");
        assert_eq!(b.open("c", &sealed).unwrap(), "v");
        std::fs::write(&path, "not a key").unwrap();
        let err = Sealer::from_file(&path, true).unwrap_err().to_string();
        assert!(err.contains("64 hexadecimal digits"), "{err}");
    }
}
