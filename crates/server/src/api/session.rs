//! Login, logout, who am I, password change.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use apoyo_store::{Actor, clock};

use crate::api::dto::UserView;
use crate::api::json::ApiJson;
use crate::auth::{self, Auth, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>` (apps, API clients). Browsers get it as a cookie too.
    pub token: String,
    /// Echo in `X-CSRF-Token` on state-changing requests authenticated by the cookie.
    pub csrf_token: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub user: UserView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub user: UserView,
    pub csrf_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

// Passwords never reach a log, even through a debug print.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}

fn client_address(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    if state.config.trust_forwarded_for {
        if let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return first.trim().to_owned();
        }
    }
    peer.ip().to_string()
}

fn cookie(state: &AppState, value: &str, max_age_seconds: i64) -> ApiResult<HeaderValue> {
    let secure = if state.config.cookies_secure() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}"
    ))
    .map_err(|e| ApiError::Internal(format!("cookie header: {e}")))
}

/// Starts a session.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let client = client_address(&state, &headers, peer);
    let config = &state.config;
    let since = clock::format(
        OffsetDateTime::now_utc() - Duration::minutes(i64::from(config.login_window_minutes)),
    );
    let (by_email, by_client) = state
        .store
        .login_failures_since(&request.email, &client, &since)
        .await?;
    if by_email >= i64::from(config.login_max_failures)
        || by_client >= i64::from(config.login_max_failures_per_client)
    {
        tracing::warn!(email = %apoyo_store::normalize_email(&request.email), %client, "login throttled");
        return Err(ApiError::Throttled);
    }
    let found = state.store.user_for_login(&request.email).await?;
    let (user, stored_hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, state.dummy_hash.to_string()),
    };
    let matches = auth::verify_password(request.password, stored_hash).await?;
    let user = match user {
        Some(user) if matches && user.active => user,
        _ => {
            state
                .store
                .record_login_failure(&request.email, &client)
                .await?;
            tracing::info!(email = %apoyo_store::normalize_email(&request.email), %client, "login failed");
            return Err(ApiError::Unauthenticated);
        }
    };
    state.store.clear_login_failures(&request.email).await?;
    let token = auth::random_token();
    let csrf_token = auth::random_token();
    let lifetime = Duration::hours(i64::from(config.session_hours));
    let expires_at = clock::format(OffsetDateTime::now_utc() + lifetime);
    state
        .store
        .create_session(user.id, &auth::token_hash(&token), &csrf_token, &expires_at)
        .await?;
    tracing::info!(user_id = user.id, role = user.role.as_str(), "login");
    let set_cookie = cookie(&state, &token, lifetime.whole_seconds())?;
    let body = LoginResponse {
        token,
        csrf_token,
        expires_at,
        user: UserView::from(&user),
    };
    Ok(([(header::SET_COOKIE, set_cookie)], Json(body)).into_response())
}

/// The current session's user.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
pub async fn current(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<SessionView>> {
    let session = state
        .store
        .session(&auth.token_hash)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Json(SessionView {
        user: UserView::from(&auth.user),
        csrf_token: session.csrf_token,
    }))
}

/// Ends the session: the token stops working at once, and the cookie is cleared.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    state.store.delete_session(&auth.token_hash).await?;
    tracing::info!(user_id = auth.user.id, "logout");
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie(&state, "", 0)?)],
    )
        .into_response())
}

/// Changes the password; every other session of the user ends.
#[utoipa::path(put, path = "/api/v1/session/password", tag = "session", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(change): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let stored = state
        .store
        .password_hash(auth.user.id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if !auth::verify_password(change.current_password, stored).await? {
        return Err(ApiError::Unprocessable(
            "La contraseña actual no es correcta.".into(),
        ));
    }
    if let Some(problem) = auth::password_problem(&change.new_password, &auth.user.email) {
        return Err(ApiError::Unprocessable(problem));
    }
    let hash = auth::hash_password(change.new_password).await?;
    let actor = Actor::user(auth.user.id, auth.request_id.clone());
    state
        .store
        .set_password(&actor, auth.user.id, &hash, Some(&auth.token_hash))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
