//! The OpenRosa 1.0 server ODK Collect, KoboCollect and Enketo talk to, under `/openrosa/`:
//! form list, form download, manifest, and submission (`HEAD` to learn the size limit and
//! check the credentials, `POST` multipart with `xml_submission_file` and attachments).
//!
//! Sign-in: HTTP Digest (MD5, `qop=auth`), Basic (only over HTTPS or when
//! `openrosa_allow_basic` is set for local use), or a per-device token in the path
//! (`/openrosa/key/TOKEN/…`), an API token of the enumerator's, so that a phone holds no
//! password. Every response carries `X-OpenRosa-Version: 1.0`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequestParts, Multipart, OriginalUri, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use rumbo_domain::permissions::Permission;
use rumbo_domain::secrets::{constant_time_eq, new_secret, secret_hash};
use rumbo_store::collection::{Channel, FormRecord, Ingested, NewAttachment};
use rumbo_store::model::{Role, User};
use serde::Deserialize;
use sha2::Sha256;

use crate::AppState;
use crate::auth::Caller;
use crate::collect::{Envelope, Submitter};
use crate::error::ApiError;

/// The realm of HTTP Digest: part of every stored Digest secret, so it never changes.
pub const REALM: &str = "Rumbo";

/// `MD5(username:realm:password)`, what the server keeps to check Digest answers.
pub fn digest_ha1(username: &str, password: &str) -> String {
    hex::encode(Md5::digest(format!("{username}:{REALM}:{password}").as_bytes()))
}

/// The Digest secret to keep for a user, if any. It is as good as the password for this
/// realm and far quicker to guess from than argon2, so it is kept only for the roles that
/// collect data on phones (enumerators and IM officers); administrators use device keys.
pub fn digest_secret(user: &User, password: &str) -> Option<String> {
    matches!(user.role, Role::Enumerator | Role::ImOfficer).then(|| digest_ha1(&user.username, password))
}

/// `(nonce, nc)` pairs already answered: a Digest answer is good once.
static ANSWERED: LazyLock<Mutex<std::collections::HashSet<String>>> = LazyLock::new(Mutex::default);

/// Whether this `(nonce, nc)` is new (and remembers it).
fn first_use(nonce: &str, nc: &str) -> bool {
    let Ok(mut seen) = ANSWERED.lock() else { return false };
    if seen.len() > 200_000 {
        // Forget the pairs of expired nonces (they are refused anyway).
        seen.retain(|key| key.split_once('|').is_some_and(|(n, _)| nonce_valid(n)));
    }
    seen.insert(format!("{nonce}|{nc}"))
}

/// How long a Digest nonce is accepted.
const NONCE_LIFETIME: Duration = Duration::from_hours(1);
/// How long a checked Basic password is remembered (argon2 is slow on purpose).
const BASIC_CACHE: Duration = Duration::from_mins(5);

static NONCE_KEY: LazyLock<String> = LazyLock::new(|| new_secret(""));
static BASIC_SEEN: LazyLock<Mutex<HashMap<String, (i64, Instant)>>> = LazyLock::new(Mutex::default);

/// How long a device key's or a user's account is remembered between requests: a phone
/// sending a day of submissions does not look its account up for each one. Changes made
/// through this server (a key revoked, a user deactivated, a password changed) forget at
/// once ([`forget_callers`]); changes made by another process are seen within this time.
const CALLER_CACHE: Duration = Duration::from_secs(10);
static KEY_CALLERS: LazyLock<Mutex<HashMap<String, (User, Instant)>>> = LazyLock::new(Mutex::default);
static USERS: LazyLock<Mutex<HashMap<i64, (User, Instant)>>> = LazyLock::new(Mutex::default);

/// Forgets every remembered OpenRosa caller (after a key, a user or a password changed).
pub fn forget_callers() {
    if let Ok(mut c) = BASIC_SEEN.lock() {
        c.clear();
    }
    if let Ok(mut c) = KEY_CALLERS.lock() {
        c.clear();
    }
    if let Ok(mut c) = USERS.lock() {
        c.clear();
    }
}

fn remembered<K: std::hash::Hash + Eq>(cache: &Mutex<HashMap<K, (User, Instant)>>, key: &K) -> Option<User> {
    let cache = cache.lock().ok()?;
    cache.get(key).filter(|(_, at)| at.elapsed() < CALLER_CACHE).map(|(u, _)| u.clone())
}

fn remember<K: std::hash::Hash + Eq>(cache: &Mutex<HashMap<K, (User, Instant)>>, key: K, user: &User) {
    if let Ok(mut cache) = cache.lock() {
        if cache.len() > 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < CALLER_CACHE);
        }
        cache.insert(key, (user.clone(), Instant::now()));
    }
}

/// A user by id, remembered for a few seconds.
async fn user_by_id(state: &AppState, id: i64) -> Result<User, ApiError> {
    if let Some(user) = remembered(&USERS, &id) {
        return Ok(user);
    }
    let user = state.store.user(id).await?;
    remember(&USERS, id, &user);
    Ok(user)
}

pub fn router(state: &AppState) -> Router<AppState> {
    let limit = state.config.max_submission_bytes + 64 * 1024;
    let routes = || {
        Router::new()
            .route("/formList", get(form_list))
            .route("/forms/{form}/form.xml", get(form_xml))
            .route("/forms/{form}/manifest", get(manifest))
            .route("/submission", axum::routing::head(submission_head).post(submission))
            .layer(DefaultBodyLimit::max(limit))
    };
    Router::new()
        .nest("/openrosa", routes())
        .nest("/openrosa/key/{token}", routes())
        .layer(axum::middleware::map_response(openrosa_headers))
}

async fn openrosa_headers(mut response: Response) -> Response {
    response.headers_mut().insert("x-openrosa-version", HeaderValue::from_static("1.0"));
    response
}

/// An OpenRosa failure: the status and an `OpenRosaResponse` saying why.
pub struct OpenRosaError {
    error: ApiError,
    basic_allowed: bool,
}

impl IntoResponse for OpenRosaError {
    fn into_response(self) -> Response {
        let status = match &self.error {
            // A submission refused for its content is a 400, as clients expect.
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            e => e.status_code(),
        };
        let mut response = xml_response(status, &response_body(&self.error.to_string(), "error"));
        if matches!(self.error, ApiError::Unauthorized | ApiError::BadCredentials) {
            let h = response.headers_mut();
            h.append(header::WWW_AUTHENTICATE, challenge());
            if self.basic_allowed {
                h.append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"Rumbo\", charset=\"UTF-8\""),
                );
            }
        }
        response
    }
}

impl From<ApiError> for OpenRosaError {
    fn from(error: ApiError) -> Self {
        Self { error, basic_allowed: false }
    }
}

fn challenge() -> HeaderValue {
    let nonce = nonce_at(now_secs());
    let opaque = hex::encode(&Sha256::digest(format!("opaque{}", &*NONCE_KEY).as_bytes())[..8]);
    HeaderValue::from_str(&format!(
        "Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{nonce}\", opaque=\"{opaque}\""
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("Digest realm=\"Rumbo\""))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A nonce made at `secs`: the time, a random part (two challenges in the same second
/// differ), and a signature over both with the server's key.
fn nonce_at(secs: u64) -> String {
    nonce_with(secs, &new_secret("")[..16])
}

fn nonce_with(secs: u64, salt: &str) -> String {
    let stamp = format!("{secs:x}");
    let sig = Sha256::digest(format!("{stamp}.{salt}:{}", &*NONCE_KEY).as_bytes());
    format!("{stamp}.{salt}.{}", hex::encode(&sig[..12]))
}

/// Whether a nonce is one of ours and still fresh.
fn nonce_valid(nonce: &str) -> bool {
    let mut parts = nonce.splitn(3, '.');
    let (Some(stamp), Some(salt)) = (parts.next(), parts.next()) else { return false };
    let Ok(secs) = u64::from_str_radix(stamp, 16) else { return false };
    constant_time_eq(&nonce_with(secs, salt), nonce) && now_secs().saturating_sub(secs) <= NONCE_LIFETIME.as_secs()
}

/// A token for a public page form (the captive portal): signed with the server's key and
/// good for an hour, so a post must come from a page this server gave out recently.
pub fn form_token() -> String {
    nonce_at(now_secs())
}

pub fn form_token_valid(token: &str) -> bool {
    nonce_valid(token)
}

/// The parameters of a `Digest` Authorization header.
fn digest_params(value: &str) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (val, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after[..end].trim(), &after[end..]),
                None => (after.trim(), ""),
            }
        };
        params.insert(key, val.to_string());
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    params
}

/// A signed-in OpenRosa client.
pub struct OpenRosaCaller {
    pub caller: Caller,
    /// `/openrosa` or `/openrosa/key/TOKEN`: where this client's other addresses start.
    pub base: String,
}

impl<S> FromRequestParts<S> for OpenRosaCaller
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = OpenRosaError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, OpenRosaError> {
        let state = AppState::from_ref(state);
        let path = parts.extensions.get::<OriginalUri>().map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        let origin = origin(&state, &parts.headers);
        let basic_allowed = state.config.openrosa_allow_basic || is_https(&state, &parts.headers);
        let fail = |error: ApiError| OpenRosaError { error, basic_allowed };
        if let Some(rest) = path.path().strip_prefix("/openrosa/key/") {
            let token = rest.split('/').next().unwrap_or_default();
            let hash = secret_hash(token);
            let user = if let Some(user) = remembered(&KEY_CALLERS, &hash) {
                user
            } else {
                let user = state.store.token_user(&hash).await.map_err(|e| fail(e.into()))?.ok_or_else(|| {
                    fail(ApiError::Forbidden("this device key is unknown, expired or revoked".into()))
                })?;
                remember(&KEY_CALLERS, hash, &user);
                user
            };
            return Ok(Self { caller: Caller { user, csrf: None }, base: format!("{origin}/openrosa/key/{token}") });
        }
        let base = format!("{origin}/openrosa");
        let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Err(fail(ApiError::Unauthorized));
        };
        if let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) {
            if !basic_allowed {
                return Err(fail(ApiError::Forbidden(
                    "Basic sign-in is refused over plain HTTP: use HTTPS, Digest, or a device key".into(),
                )));
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| fail(ApiError::BadRequest("the Basic credentials are not valid base64".into())))?;
            let (username, password) = decoded.split_once(':').ok_or_else(|| fail(ApiError::BadCredentials))?;
            let key = secret_hash(&decoded);
            let remembered = BASIC_SEEN.lock().ok().and_then(|seen| seen.get(&key).copied());
            let user = if let Some((id, _)) = remembered.filter(|(_, at)| at.elapsed() < BASIC_CACHE) {
                user_by_id(&state, id).await.map_err(fail)?
            } else {
                let user = crate::ops::authenticate(&state.store, username, password).await.map_err(fail)?;
                if let Ok(mut seen) = BASIC_SEEN.lock() {
                    seen.retain(|_, (_, at)| at.elapsed() < BASIC_CACHE);
                    seen.insert(key, (user.id, Instant::now()));
                }
                user
            };
            if !user.active {
                return Err(fail(ApiError::BadCredentials));
            }
            return Ok(Self { caller: Caller { user, csrf: None }, base });
        }
        if let Some(params) = value.strip_prefix("Digest ").or_else(|| value.strip_prefix("digest ")) {
            let p = digest_params(params);
            let get = |k: &str| p.get(k).map(String::as_str).unwrap_or_default();
            let nonce = get("nonce");
            if !nonce_valid(nonce) {
                // A stale or foreign nonce: a fresh challenge makes the client try again.
                return Err(fail(ApiError::Unauthorized));
            }
            let uri = get("uri");
            let request_target = path.path_and_query().map_or(path.path(), |pq| pq.as_str());
            if uri != request_target && uri != path.path() && !uri.ends_with(request_target) {
                return Err(fail(ApiError::BadRequest("the Digest uri does not match the request".into())));
            }
            let Some((id, ha1, failures, locked_until)) =
                state.store.digest_ha1(get("username")).await.map_err(|e| fail(e.into()))?
            else {
                return Err(fail(ApiError::BadCredentials));
            };
            if let Some(until) = locked_until.filter(|u| *u > chrono::Utc::now()) {
                return Err(fail(ApiError::Locked(until)));
            }
            let ha2 = hex::encode(Md5::digest(format!("{}:{uri}", parts.method.as_str()).as_bytes()));
            let expected = match get("qop") {
                "" => hex::encode(Md5::digest(format!("{ha1}:{nonce}:{ha2}").as_bytes())),
                qop => hex::encode(Md5::digest(
                    format!("{ha1}:{nonce}:{}:{}:{qop}:{ha2}", get("nc"), get("cnonce")).as_bytes(),
                )),
            };
            if !constant_time_eq(&expected, &get("response").to_ascii_lowercase()) {
                // Wrong answers count like wrong passwords on the sign-in page: five lock the account.
                let lock = chrono::Duration::minutes(crate::ops::LOCKOUT_MINUTES);
                let _ = state.store.begin_login_attempt(id, crate::ops::MAX_LOGIN_FAILURES).await;
                let _ = state.store.login_failed(id, crate::ops::MAX_LOGIN_FAILURES, lock).await;
                return Err(fail(ApiError::BadCredentials));
            }
            if !first_use(nonce, get("nc")) {
                // A replayed answer: a fresh challenge.
                return Err(fail(ApiError::Unauthorized));
            }
            if failures > 0 {
                let _ = state.store.login_succeeded(id).await;
            }
            let user = user_by_id(&state, id).await.map_err(fail)?;
            if !user.active {
                return Err(fail(ApiError::BadCredentials));
            }
            return Ok(Self { caller: Caller { user, csrf: None }, base });
        }
        Err(fail(ApiError::Unauthorized))
    }
}

fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// `scheme://host` of this server as the client reached it.
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let host: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(*c)).collect();
    format!("{}://{host}", if is_https(state, headers) { "https" } else { "http" })
}

fn xml_response(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"))], body.to_string())
        .into_response()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    crate::collect::record::escape(text, &mut out);
    out
}

fn response_body(message: &str, nature: &str) -> String {
    format!(
        "<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\"><message nature=\"{nature}\">{}</message></OpenRosaResponse>",
        escape(message)
    )
}

/// Whether the caller may see (and so submit to) a form: open, published, and attached
/// to one of the caller's countries where the role may submit.
fn may_use(caller: &Caller, form: &FormRecord) -> bool {
    form.current_version_id.is_some() && form.countries.iter().any(|c| caller.allows(Permission::Submit, Some(c)))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(rename = "formID")]
    form_id: Option<String>,
}

async fn form_list(
    State(state): State<AppState>,
    client: OpenRosaCaller,
    Query(query): Query<ListQuery>,
) -> Result<Response, OpenRosaError> {
    let forms = state.store.list_forms(client.caller.scope().as_deref()).await.map_err(ApiError::from)?;
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">",
    );
    for form in forms.iter().filter(|f| f.open && may_use(&client.caller, f)) {
        if query.form_id.as_ref().is_some_and(|id| id != &form.xml_form_id) {
            continue;
        }
        let id = escape(&form.xml_form_id);
        let path_id = crate::collect::record::url_segment(&form.xml_form_id);
        let _ = write!(
            body,
            "<xform><formID>{id}</formID><name>{}</name><version>{}</version><hash>{}</hash>\
             <downloadUrl>{base}/forms/{path_id}/form.xml</downloadUrl>\
             <manifestUrl>{base}/forms/{path_id}/manifest</manifestUrl></xform>",
            escape(&form.title),
            escape(form.version.as_deref().unwrap_or_default()),
            escape(form.md5.as_deref().unwrap_or_default()),
            base = escape(&client.base),
        );
    }
    body.push_str("</xforms>");
    Ok(xml_response(StatusCode::OK, &body))
}

async fn visible_form(
    state: &AppState,
    client: &OpenRosaCaller,
    xml_form_id: &str,
) -> Result<FormRecord, OpenRosaError> {
    let entry = state.collect.entry(xml_form_id).await?;
    if !may_use(&client.caller, &entry.record) {
        return Err(ApiError::NotFound(format!("form {xml_form_id}")).into());
    }
    Ok(entry.record.clone())
}

async fn form_xml(
    State(state): State<AppState>,
    client: OpenRosaCaller,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, OpenRosaError> {
    let id = params.get("form").map(String::as_str).unwrap_or_default();
    let form = visible_form(&state, &client, id).await?;
    let version = form.current_version_id.ok_or_else(|| ApiError::NotFound(format!("form {id}")))?;
    let (_, _, xform) = state.store.form_version_files(version).await.map_err(ApiError::from)?;
    Ok(xml_response(StatusCode::OK, &xform))
}

async fn manifest(
    State(state): State<AppState>,
    client: OpenRosaCaller,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, OpenRosaError> {
    let id = params.get("form").map(String::as_str).unwrap_or_default();
    visible_form(&state, &client, id).await?;
    // Rumbo forms carry no media files yet: the manifest is empty.
    Ok(xml_response(
        StatusCode::OK,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest xmlns=\"http://openrosa.org/xforms/xformsManifest\"></manifest>",
    ))
}

fn accept_length(state: &AppState) -> HeaderValue {
    HeaderValue::from(state.config.max_submission_bytes)
}

async fn submission_head(State(state): State<AppState>, _client: OpenRosaCaller) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert("x-openrosa-accept-content-length", accept_length(&state));
    response
}

async fn submission(
    State(state): State<AppState>,
    client: OpenRosaCaller,
    headers: HeaderMap,
    method: Method,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, OpenRosaError> {
    debug_assert_eq!(method, Method::POST);
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "a submission is sent as multipart/form-data with an xml_submission_file part, not as {}",
            if content_type.is_empty() { "a body without a Content-Type" } else { content_type }
        ))
        .into());
    }
    let mut multipart = multipart.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let max = state.config.max_submission_bytes;
    let mut xml = None;
    let mut complete = true;
    let mut attachments = Vec::new();
    let mut total = 0usize;
    while let Some(field) = multipart.next_field().await.map_err(|e| multipart_error(&e))? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let content_type = field.content_type().unwrap_or("application/octet-stream").to_string();
        let bytes: Bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
        total += bytes.len();
        if total > max {
            return Err(ApiError::TooLarge(format!(
                "the submission is larger than this server accepts ({} MB): send it in parts",
                max / (1024 * 1024)
            ))
            .into());
        }
        match name.as_str() {
            "xml_submission_file" => {
                xml = Some(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|_| ApiError::BadRequest("xml_submission_file is not UTF-8 text".into()))?,
                );
            }
            "*isIncomplete*" => complete = !String::from_utf8_lossy(&bytes).trim().eq_ignore_ascii_case("yes"),
            _ => {
                let file = file_name.unwrap_or(name);
                let file = file.rsplit(['/', '\\']).next().unwrap_or_default().to_string();
                if file.is_empty() || file.len() > 255 {
                    return Err(ApiError::BadRequest("an attachment has no usable file name".into()).into());
                }
                if bytes.len() > state.config.max_attachment_bytes {
                    return Err(ApiError::TooLarge(format!(
                        "attachment {file} is larger than the {} MB an attachment may be",
                        state.config.max_attachment_bytes / (1024 * 1024)
                    ))
                    .into());
                }
                attachments.push(NewAttachment { name: file, content_type, content: bytes.to_vec() });
            }
        }
    }
    let xml = xml.ok_or_else(|| ApiError::BadRequest("the multipart body has no xml_submission_file part".into()))?;
    // Whether the client may use the form comes first: nothing of a form it may not see
    // (versions, fields) shows through the answers to its checks.
    let (form_id, _) = crate::collect::record::root_form_id(&xml).map_err(ApiError::BadRequest)?;
    let entry = state.collect.entry(&form_id).await?;
    if !may_use(&client.caller, &entry.record) {
        // Known to exist, but not to this client: the same answer as for no form at all.
        return Err(ApiError::NotFound(format!("form {form_id}")).into());
    }
    let (entry, compiled, validated) = state.collect.check_xml(&xml).await?;
    let submitter = Submitter::user(&client.caller);
    let envelope = Envelope { channel: Channel::OpenRosa, attachments, complete };
    let prepared = state.collect.prepare(&entry, &compiled, validated, xml, &submitter, envelope).await?;
    let outcome = state.collect.store(prepared).await?;
    let (status, message) = match outcome {
        Ingested::Created { .. } => (StatusCode::CREATED, "Thank you: the submission was received.".to_string()),
        Ingested::Duplicate { .. } => {
            (StatusCode::ACCEPTED, "This submission was received before; nothing has changed.".to_string())
        }
        Ingested::Conflict { message } => return Err(ApiError::Conflict { field: None, message }.into()),
        Ingested::Refused { field, message } => return Err(ApiError::invalid(&field, message).into()),
    };
    let mut response = xml_response(status, &response_body(&message, "submit_success"));
    response.headers_mut().insert("x-openrosa-accept-content-length", accept_length(&state));
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/openrosa/submission"));
    Ok(response)
}

fn multipart_error(e: &axum::extract::multipart::MultipartError) -> OpenRosaError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge("the submission is larger than this server accepts: send it in parts".into()).into()
    } else {
        ApiError::BadRequest(format!("the multipart body is malformed or was cut short: {}", e.body_text())).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_parameters_are_read_quoted_or_not() {
        let p = digest_params(
            r#"username="ana", realm="Rumbo", nonce="a.b", uri="/openrosa/submission", qop=auth, nc=00000001, cnonce="xyz", response="abc""#,
        );
        assert_eq!(p["username"], "ana");
        assert_eq!(p["qop"], "auth");
        assert_eq!(p["nc"], "00000001");
        assert_eq!(p["uri"], "/openrosa/submission");
        assert_eq!(p["response"], "abc");
    }

    #[test]
    fn nonces_are_ours_and_expire() {
        let fresh = nonce_at(now_secs());
        assert!(nonce_valid(&fresh));
        assert!(!nonce_valid(&nonce_at(now_secs() - 7200)));
        assert!(!nonce_valid("12345.00"));
        assert!(!nonce_valid("12345.00.00"));
        assert_ne!(nonce_at(now_secs()), nonce_at(now_secs()), "two challenges never share a nonce");
        let forged = format!("{:x}.{}", now_secs(), &fresh[fresh.find('.').unwrap() + 1..]);
        assert!(nonce_valid(&fresh) && (forged == fresh || !nonce_valid(&forged)));
        assert!(!nonce_valid("garbage"));
    }

    #[test]
    fn the_digest_secret_is_rfc_2617s_ha1() {
        // RFC 2617's example user, with our realm.
        assert_eq!(digest_ha1("Mufasa", "Circle Of Life").len(), 32);
        assert_ne!(digest_ha1("Mufasa", "Circle Of Life"), digest_ha1("mufasa", "Circle Of Life"));
    }
}
