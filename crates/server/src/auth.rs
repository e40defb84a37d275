//! Passwords, session tokens and the `Auth` extractor that every protected handler takes.
//!
//! A session is a random 256-bit token. Browsers hold it in an HttpOnly, SameSite=Strict
//! cookie and must echo the session's CSRF token in `X-CSRF-Token` on every state-changing
//! request; the capture app and API clients send it as `Authorization: Bearer`, which a
//! cross-site form cannot forge. The database keeps only the token's SHA-256.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};

use apoyo_domain::access::{Principal, Role};
use apoyo_store::User;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "apoyo_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Hashes with argon2id (default parameters: 19 MiB, 2 passes) off the async threads.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("hashing task failed: {e}")))?
}

/// Verifies off the async threads; a malformed stored hash counts as a mismatch.
pub async fn verify_password(password: String, stored_hash: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&stored_hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .map_err(|e| ApiError::Internal(format!("verification task failed: {e}")))
}

/// A hash of a random password no one knows, so that a login for an unknown email takes
/// as long as one for a known email.
pub async fn dummy_hash() -> ApiResult<String> {
    hash_password(random_token()).await
}

/// 256 random bits, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing is not recoverable; an all-zero token must never be issued.
    if getrandom::fill(&mut bytes).is_err() {
        panic_free_abort();
    }
    hex(&bytes)
}

fn panic_free_abort() -> ! {
    tracing::error!("the operating system's random generator failed; stopping");
    std::process::abort()
}

/// A password people can copy: 16 characters without look-alikes (no 0/O, 1/l/I).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        panic_free_abort();
    }
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// A one-time password for a new account, and its hash to store.
pub async fn one_time_password() -> ApiResult<(String, String)> {
    let password = random_password();
    let hash = hash_password(password.clone()).await?;
    Ok((password, hash))
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a new password is not acceptable, in Spanish; `None` when it is.
pub fn password_problem(password: &str, email: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Some(format!(
            "La contraseña debe tener al menos {MIN_PASSWORD_CHARS} caracteres."
        ));
    }
    if password.to_lowercase() == email.trim().to_lowercase() {
        return Some("La contraseña no puede ser su correo.".into());
    }
    None
}

/// How the request proved its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct Auth {
    pub user: User,
    pub principal: Principal,
    pub token_hash: String,
    pub via: Via,
    pub request_id: Option<String>,
}

impl Auth {
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.principal.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn actor(&self) -> apoyo_store::Actor {
        apoyo_store::Actor::user(self.user.id, self.request_id.clone())
    }
}

pub fn session_token(headers: &HeaderMap) -> Option<(String, Via)> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return Some((token.trim().to_owned(), Via::Bearer));
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| (value.to_owned(), Via::Cookie))
}

pub fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (token, via) = session_token(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let token_hash = token_hash(&token);
        let session = state
            .store
            .session(&token_hash)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via == Via::Cookie && !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !sent.is_some_and(|sent| {
                constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes())
            }) {
                return Err(ApiError::Csrf);
            }
        }
        // A one-time password opens only the door to choosing a new one.
        let path = parts.uri.path();
        if session.user.must_change_password && !path.starts_with("/api/v1/session") {
            return Err(ApiError::PasswordChangeRequired);
        }
        let principal = Principal {
            user_id: session.user.id,
            role: session.user.role,
            aspirant_id: session.user.aspirant_id,
        };
        Ok(Self {
            user: session.user,
            principal,
            token_hash,
            via,
            request_id: request_id(&parts.headers),
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let a = hash_password("correct horse battery".into())
            .await
            .unwrap_or_default();
        let b = hash_password("correct horse battery".into())
            .await
            .unwrap_or_default();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(
            verify_password("correct horse battery".into(), a.clone())
                .await
                .unwrap_or(false)
        );
        assert!(!verify_password("wrong".into(), a).await.unwrap_or(true));
        assert!(
            !verify_password("x".into(), "not a hash".into())
                .await
                .unwrap_or(true)
        );
    }

    #[test]
    fn tokens_and_passwords_are_random_and_readable() {
        assert_eq!(random_token().len(), 64);
        assert_ne!(random_token(), random_token());
        let password = random_password();
        assert_eq!(password.len(), 16);
        assert!(
            password
                .chars()
                .all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c))
        );
        assert!(password_problem("short", "a@b.mx").is_some());
        assert!(password_problem("a@b.mx.long", "A@B.MX.LONG").is_some());
        assert!(password_problem("long enough pass", "a@b.mx").is_none());
    }

    #[test]
    fn reads_bearer_before_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "x=1; apoyo_session=abc; y=2"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(session_token(&headers), Some(("abc".into(), Via::Cookie)));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer zzz".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(session_token(&headers), Some(("zzz".into(), Via::Bearer)));
    }
}
