//! Secrets people hold: invite codes from the letter and session tokens. Only hashes of
//! them are stored; the plain values never reach a log.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The 32 symbols invite codes are drawn from: digits and capitals without 0/O and 1/I,
/// which a reader of a paper letter confuses.
pub const INVITE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Length of an invite code: 13 symbols of 5 bits each, 65 random bits.
pub const INVITE_LENGTH: usize = 13;

/// A fresh random invite code in its plain (ungrouped) form.
pub fn new_invite_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..INVITE_LENGTH)
        .map(|_| INVITE_ALPHABET[rng.gen_range(0..INVITE_ALPHABET.len())] as char)
        .collect()
}

/// The code as printed on a letter: groups of four and five, e.g. `ABCD-EFGH-JKLMN`.
pub fn format_invite_code(code: &str) -> String {
    if code.len() != INVITE_LENGTH {
        return code.to_owned();
    }
    format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..])
}

/// Brings a typed code to its plain form: capitals, without the spaces, dots and dashes
/// people add when they copy it from a letter.
pub fn normalize_invite_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether a normalized code could have been issued at all (cheap check before a lookup).
pub fn plausible_invite_code(code: &str) -> bool {
    code.len() == INVITE_LENGTH && code.bytes().all(|b| INVITE_ALPHABET.contains(&b))
}

/// The stored form of an invite code. Codes carry 65 random bits, so a plain SHA-256
/// with a domain prefix cannot be reversed by guessing.
pub fn hash_invite_code(normalized: &str) -> String {
    sha256_hex(&format!("beraad-invite:{normalized}"))
}

/// A new session token (256 random bits) for the cookie.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a session token.
pub fn hash_token(token: &str) -> String {
    sha256_hex(&format!("beraad-session:{token}"))
}

/// A short random hex string (128 bits), for salts and epochs.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a string, hex encoded.
pub fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

/// SHA-256 of bytes, hex encoded.
pub fn sha256_hex_bytes(input: &[u8]) -> String {
    hex::encode(Sha256::digest(input))
}

/// A link token signed with HMAC-SHA-256: `purpose`, the panelist and the nonce of
/// their contact, so that a token dies when the address is changed or removed. It is
/// never stored; the node that sends a message makes it again from the same inputs.
pub fn sign_link(key: &[u8], purpose: &str, panelist_id: i64, nonce: &str) -> String {
    use hmac::Mac;
    let payload = format!("{purpose}:{panelist_id}:{nonce}");
    // HMAC takes a key of any length, so `new_from_slice` cannot fail here.
    let mut mac = match hmac::Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(payload.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// Checks a token made by [`sign_link`] for `purpose` (in constant time); returns the
/// panelist and nonce it names.
pub fn verify_link(key: &[u8], purpose: &str, token: &str) -> Option<(i64, String)> {
    use hmac::Mac;
    let (payload, tag) = token.trim().split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(&payload);
    mac.verify_slice(&tag).ok()?;
    let payload = String::from_utf8(payload).ok()?;
    let mut parts = payload.splitn(3, ':');
    if parts.next()? != purpose {
        return None;
    }
    let id = parts.next()?.parse().ok()?;
    Some((id, parts.next()?.to_owned()))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_signed_link_checks_out_only_for_its_purpose_and_key() {
        let key = b"een sleutel van genoeg lengte";
        let token = sign_link(key, "unsubscribe", 42, "abc123");
        assert_eq!(
            verify_link(key, "unsubscribe", &token),
            Some((42, "abc123".to_owned()))
        );
        assert_eq!(verify_link(key, "confirm", &token), None, "another purpose");
        assert_eq!(
            verify_link(b"een andere sleutel", "unsubscribe", &token),
            None
        );
        let (payload, tag) = token.split_once('.').expect("two parts");
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("unsubscribe:43:abc123"));
        assert_eq!(
            verify_link(key, "unsubscribe", &forged),
            None,
            "another panelist"
        );
        assert_eq!(verify_link(key, "unsubscribe", payload), None);
        assert_eq!(verify_link(key, "unsubscribe", "niets.hier"), None);
    }

    use super::*;

    #[test]
    fn codes_use_the_alphabet_and_normalize_back() {
        let code = new_invite_code();
        assert!(plausible_invite_code(&code), "{code}");
        let printed = format_invite_code(&code);
        assert_eq!(printed.len(), INVITE_LENGTH + 2);
        assert_eq!(normalize_invite_code(&printed.to_lowercase()), code);
        assert_eq!(normalize_invite_code(" abcd efgh-jklmn "), "ABCDEFGHJKLMN");
        assert!(!plausible_invite_code("ABCDEFGHJKLMO"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.len() >= 43);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
