//! Test harness: the real app on port 0 over a fresh data directory, a small synthetic
//! roll, HTTP helpers (bearer or cookie + CSRF) and a fixture that builds a whole world
//! (administrator, reviewer, processes, offices, two aspirants and their collectors)
//! through the API itself.
//!
//! Every name, email and clave de elector here is synthetic.

// Each test binary uses part of the harness.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apoyo_domain::Date;
use apoyo_domain::access::Role;
use apoyo_domain::roll::COLUMNS;
use apoyo_server::{App, Config, ServerError};
use apoyo_store::{Actor, ImportOptions, NewUser, Store};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_EMAIL: &str = "admin@iepc-dgo.apoyo.test";
pub const ADMIN_PASSWORD: &str = "administracion-sintetica-2024";
pub const SNAPSHOT: &str = "corte-2024-08-31";
pub const STATE: u8 = 10;
pub const PROCESS_NAME: &str = "Ayuntamientos Durango 2024-2025";
pub const CSRF_HEADER: &str = "x-csrf-token";

// ---------------------------------------------------------------------------------------
// The storage backend a test runs on (`#[backends]` runs each test on both)
// ---------------------------------------------------------------------------------------

#[allow(unused_imports)] // Each test binary uses part of them.
pub use apoyo_testkit::{
    TestBackend, backend, fresh_postgres_database, on_backend, services_required,
};

/// Where a test app keeps its data on the current backend: (database URL, object
/// store URL), `None` for the embedded defaults.
pub async fn test_storage() -> (Option<String>, Option<String>) {
    match backend() {
        TestBackend::Sqlite => (None, None),
        TestBackend::Postgres => {
            let database = fresh_postgres_database().await;
            let objects = std::env::var("APOYO_TEST_S3_URL").ok().map(|bucket| {
                format!(
                    "{}/{}",
                    bucket.trim_end_matches('/'),
                    uuid::Uuid::now_v7().simple()
                )
            });
            (Some(database), objects)
        }
    }
}

// ---------------------------------------------------------------------------------------
// The synthetic roll
// ---------------------------------------------------------------------------------------

/// (municipio, first sección, number of secciones) in entidad 10 (Durango):
/// 5 = Durango, 7 = Gómez Palacio, 12 = Lerdo.
const MUNICIPALITIES: [(u16, u16, u16); 3] = [(5, 300, 7), (7, 500, 5), (12, 700, 3)];
const CITIZENS: u32 = 330;

const GIVEN_H: [&str; 4] = ["LUIS", "JORGE", "RAUL", "IVAN"];
const GIVEN_M: [&str; 4] = ["ANA", "SOFIA", "ELENA", "ROSA"];
const PATERNAL: [&str; 6] = ["GARCIA", "SOTO", "REYES", "NAVA", "LUNA", "MORA"];
const MATERNAL: [&str; 5] = ["TORRES", "VEGA", "DURAN", "SALAS", "CORTES"];

#[derive(Clone, Copy, Debug, Default)]
pub struct SectionCounts {
    pub municipality: u16,
    pub lista_nominal: i64,
    pub padron: i64,
    pub baja: i64,
    pub reemplazada: i64,
}

/// What the harness imported, so tests can check the server's numbers against it.
#[derive(Clone, Debug, Default)]
pub struct Roll {
    pub sections: BTreeMap<u16, SectionCounts>,
    /// Claves of citizens on the Lista Nominal.
    pub lista_nominal: Vec<String>,
    /// Claves of citizens in the padrón but not on the Lista Nominal.
    pub padron: Vec<String>,
    /// Claves of citizens removed from the padrón (baja).
    pub baja: Vec<String>,
    pub rows: usize,
}

impl Roll {
    pub fn sections_of(&self, municipality: u16) -> Vec<u16> {
        self.sections
            .iter()
            .filter(|(_, c)| c.municipality == municipality)
            .map(|(s, _)| *s)
            .collect()
    }

    pub fn lista_nominal_of_municipality(&self, municipality: u16) -> i64 {
        self.sections
            .values()
            .filter(|c| c.municipality == municipality)
            .map(|c| c.lista_nominal)
            .sum()
    }

    pub fn lista_nominal_of_sections(&self, sections: &[u16]) -> i64 {
        sections
            .iter()
            .map(|s| self.sections[s].lista_nominal)
            .sum()
    }

    pub fn lista_nominal_total(&self) -> i64 {
        self.sections.values().map(|c| c.lista_nominal).sum()
    }
}

/// The first letter and the first internal consonant of a word (clave de elector rule).
fn clave_letters(word: &str) -> String {
    let first = word.chars().next().unwrap_or('X');
    let consonant = word
        .chars()
        .skip(1)
        .find(|c| !"AEIOU".contains(*c))
        .unwrap_or('X');
    format!("{first}{consonant}")
}

/// A clave with a valid structure that is not on the roll.
pub const CLAVE_NOT_ON_ROLL: &str = "NXQZWK80010110H999";

/// Builds the roll file: 330 citizens over 15 secciones of 3 municipios, with some
/// padrón-only and baja citizens and some superseded credentials.
pub fn roll_file() -> (String, Roll) {
    let mut roll = Roll::default();
    let mut text = COLUMNS.join(",");
    text.push('\n');
    let epoch = Date::new(1950, 1, 1).unwrap().days_since_epoch();
    for i in 0..CITIZENS {
        let (municipality, first_section, count) = match i % 10 {
            0..=4 => MUNICIPALITIES[0],
            5..=7 => MUNICIPALITIES[1],
            _ => MUNICIPALITIES[2],
        };
        let section = first_section + u16::try_from((i * 7 + i / 3) % u32::from(count)).unwrap();
        let sex = if i % 2 == 0 { "H" } else { "M" };
        let given = if sex == "H" {
            GIVEN_H[(i / 2 % 4) as usize]
        } else {
            GIVEN_M[(i / 2 % 4) as usize]
        };
        let paternal = PATERNAL[(i % 6) as usize];
        let maternal = MATERNAL[(i / 6 % 5) as usize];
        let birth = Date::from_days_since_epoch(epoch + i64::from(i * 97 % 18_000));
        let clave = format!(
            "{}{}{}{}{STATE}{sex}{i:03}",
            clave_letters(paternal),
            clave_letters(maternal),
            clave_letters(given),
            birth.to_yymmdd(),
        );
        let (status, cause) = if i % 23 == 5 {
            ("padron", "")
        } else if i % 29 == 7 {
            (
                "baja",
                if i % 2 == 0 {
                    "defuncion"
                } else {
                    "suspension_derechos"
                },
            )
        } else {
            ("lista_nominal", "")
        };
        let replaced = status == "lista_nominal" && i % 41 == 3;
        let line = |emision: u32, status: &str, cause: &str| {
            let id = format!("{:09}", 100_000_000 + i * 10 + emision);
            format!(
                "{clave},,{given},{paternal},{maternal},{sex},{birth},{STATE},{municipality},{section},H,{:09},{section:04}{id},{id},{emision:02},2031,{status},{cause}\n",
                200_000_000 + i * 10 + emision,
            )
        };
        let counts = roll.sections.entry(section).or_insert(SectionCounts {
            municipality,
            ..SectionCounts::default()
        });
        if replaced {
            text.push_str(&line(1, "reemplazada", ""));
            counts.reemplazada += 1;
            roll.rows += 1;
        }
        text.push_str(&line(if replaced { 2 } else { 1 }, status, cause));
        roll.rows += 1;
        match status {
            "padron" => {
                counts.padron += 1;
                roll.padron.push(clave);
            }
            "baja" => {
                counts.baja += 1;
                roll.baja.push(clave);
            }
            _ => {
                counts.lista_nominal += 1;
                roll.lista_nominal.push(clave);
            }
        }
    }
    (text, roll)
}

// ---------------------------------------------------------------------------------------
// The running app
// ---------------------------------------------------------------------------------------

/// How a request proves its session.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    /// The session cookie, with the CSRF token in `X-CSRF-Token` when given.
    Cookie {
        token: String,
        csrf: Option<String>,
    },
}

impl Auth {
    /// The request with this authentication: bearer token, or session cookie
    /// (and CSRF header when given).
    pub fn apply(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::None => builder,
            Auth::Bearer(token) => builder.bearer_auth(token),
            Auth::Cookie { token, csrf } => {
                let builder = builder.header("cookie", format!("apoyo_session={token}"));
                match csrf {
                    Some(csrf) => builder.header(CSRF_HEADER, csrf),
                    None => builder,
                }
            }
        }
    }
}

/// A logged-in session.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub csrf: String,
    /// The login answer's `user`.
    pub user: Value,
    /// The login answer's `Set-Cookie`.
    pub set_cookie: String,
}

impl Session {
    pub fn bearer(&self) -> Auth {
        Auth::Bearer(self.token.clone())
    }

    pub fn cookie(&self) -> Auth {
        Auth::Cookie {
            token: self.token.clone(),
            csrf: Some(self.csrf.clone()),
        }
    }

    pub fn cookie_without_csrf(&self) -> Auth {
        Auth::Cookie {
            token: self.token.clone(),
            csrf: None,
        }
    }

    pub fn user_id(&self) -> i64 {
        self.user["id"].as_i64().unwrap()
    }
}

/// An answer, with what was asked for good failure messages.
#[derive(Clone, Debug)]
pub struct Reply {
    pub request: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON, `Null` when empty or not JSON.
    pub body: Value,
}

impl Reply {
    /// Panics, showing the request and the body, unless the status is `status`.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "{} answered {}: {}",
            self.request, self.status, self.text
        );
        self
    }

    /// `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// `error.message` of an error answer.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// Panics unless this is a JSON error `{"error":{"code","message"}}` with `status` and `code`.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Self {
        let reply = self.expect(status);
        assert_eq!(reply.code(), code, "{}: {}", reply.request, reply.text);
        assert!(
            !reply.message().is_empty(),
            "{}: an error needs a message: {}",
            reply.request,
            reply.text
        );
        let content_type = reply.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "{}: content-type {content_type}",
            reply.request
        );
        reply
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{}: no id in {}", self.request, self.text))
    }
}

/// A user's credentials as the test knows them.
#[derive(Clone, Debug)]
pub struct Account {
    pub user_id: i64,
    pub email: String,
    pub password: String,
}

pub struct TestApp {
    pub base: String,
    pub address: SocketAddr,
    pub data_dir: PathBuf,
    /// The PostgreSQL database of this app (`None`: SQLite in `data_dir`).
    pub database_url: Option<String>,
    pub roll: Roll,
    pub config: Config,
    pub http: reqwest::Client,
    counter: AtomicUsize,
    next_clave: AtomicUsize,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), ServerError>>>,
    // Last: removed after the rest is dropped (`None` for another instance of an app).
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts the app over a fresh data directory with the synthetic roll and the first
    /// administrator; `tweak` adjusts the configuration (listen and data_dir are set).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, object_store_url) = test_storage().await;
        let store = Store::open(database_url.as_deref(), dir.path())
            .await
            .unwrap();
        let (file, roll) = roll_file();
        let report = store
            .import_roll(
                Cursor::new(file.into_bytes()),
                ImportOptions {
                    name: SNAPSHOT.into(),
                    cut_date: Date::new(2024, 8, 31).unwrap(),
                    activate: true,
                },
                |_| {},
            )
            .await
            .unwrap();
        assert_eq!(report.rows, roll.rows as u64);
        store
            .create_user(
                &Actor::system(),
                NewUser {
                    email: ADMIN_EMAIL.into(),
                    name: "Administración IEPC (sintética)".into(),
                    role: Role::Admin,
                    password_hash: apoyo_server::auth::hash_password(ADMIN_PASSWORD.into())
                        .await
                        .unwrap(),
                    must_change_password: false,
                },
            )
            .await
            .unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        tweak(&mut config);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.path().to_owned();
        config.database_url = database_url.clone();
        config.object_store_url = object_store_url;
        let app = App::with_store(config.clone(), store).await.unwrap();
        let address = app.address;
        assert_ne!(address.port(), 0, "the listener is bound before serving");
        let (shutdown, signal) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(async move {
            let _ = signal.await;
        }));
        Self {
            base: format!("http://{address}"),
            address,
            data_dir: dir.path().to_owned(),
            database_url,
            roll,
            config,
            http: http_client(),
            counter: AtomicUsize::new(1),
            next_clave: AtomicUsize::new(0),
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: Some(dir),
        }
    }

    /// Resolves the shutdown future and waits for `serve` to return.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let server = self.server.take().unwrap();
        tokio::time::timeout(Duration::from_secs(30), server)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
    }

    /// Stops the server (as `stop` does) but keeps the data directory, for `start_server`.
    pub async fn stop_server(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(30), server)
                .await
                .expect("serve returns after shutdown")
                .unwrap()
                .unwrap();
        }
    }

    /// Starts a new app over the same data directory and configuration (a restart).
    pub async fn start_server(&mut self) {
        let app = App::build(self.config.clone()).await.unwrap();
        let address = app.address;
        let (shutdown, signal) = oneshot::channel::<()>();
        self.server = Some(tokio::spawn(app.serve(async move {
            let _ = signal.await;
        })));
        self.shutdown = Some(shutdown);
        self.address = address;
        self.base = format!("http://{address}");
    }

    /// Another `apoyo serve` over the same database and object store (and data
    /// directory): what a load balancer's second instance is. Keep `self` alive longer.
    pub async fn another_instance(&self) -> TestApp {
        let app = App::build(self.config.clone()).await.unwrap();
        let address = app.address;
        let (shutdown, signal) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(async move {
            let _ = signal.await;
        }));
        TestApp {
            base: format!("http://{address}"),
            address,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            roll: self.roll.clone(),
            config: self.config.clone(),
            http: http_client(),
            // Names stay unique across both handles; take fresh claves from one only.
            counter: AtomicUsize::new(1_000_000 + self.unique()),
            next_clave: AtomicUsize::new(self.next_clave.load(Ordering::Relaxed)),
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A number unique within this app, for names and emails.
    pub fn unique(&self) -> usize {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    pub fn unique_email(&self, prefix: &str) -> String {
        format!("{prefix}-{}@apoyo.test", self.unique())
    }

    /// A clave on the Lista Nominal that no test has used yet.
    pub fn fresh_clave(&self) -> String {
        let n = self.next_clave.fetch_add(1, Ordering::Relaxed);
        self.roll
            .lista_nominal
            .get(n)
            .cloned()
            .expect("the synthetic roll has enough citizens")
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<&Value>,
    ) -> Reply {
        self.call_with(method, path, auth, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let request = format!("{method} {path}");
        let mut builder = auth.apply(self.http.request(method, self.url(path)));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder
            .send()
            .await
            .unwrap_or_else(|e| panic!("{request}: {e}"));
        reply(request, response).await
    }

    /// A support's outcome from its receipt (`pending` before verification).
    pub async fn outcome(&self, auth: &Auth, support: i64) -> String {
        self.get(&format!("/api/v1/supports/{support}"), auth)
            .await
            .expect(200)
            .body["receipt"]["outcome"]
            .as_str()
            .unwrap_or("pending")
            .to_owned()
    }

    /// The actions of the audit log's entries about `entity`.
    pub async fn audit_actions(&self, entity: &str, auth: &Auth) -> Vec<String> {
        self.get(&format!("/api/v1/audit?entity={entity}"), auth)
            .await
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Reply {
        self.call(Method::GET, path, auth, None).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> Reply {
        self.call(Method::POST, path, auth, Some(&body)).await
    }

    /// A POST without a body (the collector (de)activation endpoints).
    pub async fn post_empty(&self, path: &str, auth: &Auth) -> Reply {
        self.call(Method::POST, path, auth, None).await
    }

    pub async fn put(&self, path: &str, auth: &Auth, body: Value) -> Reply {
        self.call(Method::PUT, path, auth, Some(&body)).await
    }

    pub async fn delete(&self, path: &str, auth: &Auth) -> Reply {
        self.call(Method::DELETE, path, auth, None).await
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/session",
            &Auth::None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Logs in (expects success) and returns the session with its CSRF token.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let reply = self.try_login(email, password).await.expect(200);
        Session {
            token: reply.body["token"].as_str().unwrap().to_owned(),
            csrf: reply.body["csrf_token"].as_str().unwrap().to_owned(),
            user: reply.body["user"].clone(),
            set_cookie: reply.header("set-cookie").unwrap_or_default(),
        }
    }

    pub async fn login_admin(&self) -> Session {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Logs in with a one-time password and changes it through the API; the returned
    /// session is the one that changed it (the others end).
    pub async fn activate(&self, account: &mut Account) -> Session {
        let session = self.login(&account.email, &account.password).await;
        assert_eq!(
            session.user["must_change_password"],
            json!(true),
            "{}",
            account.email
        );
        let new_password = format!("nueva-clave-{}-{}", self.unique(), account.email.len());
        self.put(
            "/api/v1/session/password",
            &session.bearer(),
            json!({"current_password": account.password, "new_password": new_password}),
        )
        .await
        .expect(204);
        account.password = new_password;
        account.user_id = session.user_id();
        session
    }

    /// A direct connection to the server's database, whichever backend (the server
    /// keeps its own pool). SQL with `$N` placeholders runs on both.
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.data_dir.join(apoyo_store::SQLITE_FILE).display()
            ),
        };
        sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        sqlx::Executor::execute(&mut *conn, "PRAGMA busy_timeout = 30000").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .unwrap()
    }

    /// The app's image store (its data directory's, or its bucket prefix).
    pub async fn blobs(&self) -> apoyo_store::BlobStore {
        match &self.config.object_store_url {
            Some(url) => apoyo_store::BlobStore::open_url(url).await.unwrap(),
            None => apoyo_store::BlobStore::in_data_dir(&self.data_dir).unwrap(),
        }
    }

    /// Another handle on the app's store (same database).
    pub async fn store(&self) -> Store {
        Store::open(self.database_url.as_deref(), &self.data_dir)
            .await
            .unwrap()
    }

    // --- API shortcuts used by the fixtures --------------------------------------------

    pub fn process_body(&self, name: &str) -> Value {
        json!({
            "name": name,
            "kind": "independent_candidacy",
            "collection_starts_on": "2025-01-06",
            "collection_ends_on": "2025-02-04",
            "grace_hours": 24,
            "roll_snapshot": SNAPSHOT,
            "paper_municipalities": [[10, 12]],
        })
    }

    pub fn ayuntamiento_body(&self, name: &str, municipality: u16) -> Value {
        json!({
            "kind": "ayuntamiento",
            "name": name,
            "state": STATE,
            "municipality": municipality,
            "threshold_kind": "percent",
            "threshold_value": 300,
            "dispersion_min_sections_bp": 5000,
            "dispersion_min_support_bp": 100,
        })
    }

    pub fn collector_body(&self, name: &str) -> Value {
        json!({"name": name, "email": self.unique_email("auxiliar"), "clave_elector": self.fresh_clave()})
    }

    /// Registers an aspirant (as `admin`) and returns (aspirant id, account with the one-time password).
    pub async fn register_aspirant(
        &self,
        admin: &Session,
        process_id: i64,
        office_id: i64,
        name: &str,
    ) -> (i64, Account) {
        let reply = self
            .post(
                &format!("/api/v1/processes/{process_id}/aspirants"),
                &admin.bearer(),
                json!({"office_id": office_id, "name": name, "email": self.unique_email("aspirante")}),
            )
            .await
            .expect(201);
        let account = created_account(&reply);
        (reply.body["aspirant"]["id"].as_i64().unwrap(), account)
    }

    /// Registers a collector for `aspirant_id` (as `by`) and returns (collector id, clave, account).
    pub async fn register_collector(
        &self,
        by: &Session,
        aspirant_id: i64,
        name: &str,
    ) -> (i64, String, Account) {
        let reply = self
            .post(
                &format!("/api/v1/aspirants/{aspirant_id}/collectors"),
                &by.bearer(),
                self.collector_body(name),
            )
            .await
            .expect(201);
        let collector = &reply.body["collector"];
        let account = created_account(&reply);
        (
            collector["id"].as_i64().unwrap(),
            collector["clave_elector"].as_str().unwrap().to_owned(),
            account,
        )
    }
}

fn created_account(reply: &Reply) -> Account {
    let password = reply.body["account"]["initial_password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 16, "a one-time password of 16 characters");
    Account {
        // Filled in by `activate` (aspirant and collector views carry no user id).
        user_id: 0,
        email: reply.body["account"]["email"].as_str().unwrap().to_owned(),
        password,
    }
}

pub async fn reply(request: String, response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        request,
        status,
        headers,
        text,
        body,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

// ---------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------

/// A user with a live session and known credentials.
#[derive(Clone, Debug)]
pub struct Member {
    pub account: Account,
    pub session: Session,
}

/// Administrator, reviewer, the process "Ayuntamientos Durango 2024-2025" with the
/// ayuntamientos of Durango (aspirant A) and Gómez Palacio (aspirant B), and another
/// process in which neither takes part; A has collectors `col_a` (logged in) and `col_a2`
/// (never logged in), B has `col_b` (logged in). Every account that logs in has changed
/// its one-time password through the API.
#[derive(Clone, Debug)]
pub struct World {
    pub admin: Member,
    pub reviewer: Member,
    pub process_id: i64,
    pub office_a: i64,
    pub office_b: i64,
    /// A process with a state-wide office, without A or B.
    pub other_process_id: i64,
    pub other_process_name: String,
    pub other_office: i64,
    pub aspirant_a: i64,
    pub a: Member,
    pub aspirant_b: i64,
    pub b: Member,
    pub b_name: String,
    pub col_a_id: i64,
    pub col_a: Member,
    pub col_a_clave: String,
    pub col_a2_id: i64,
    pub col_a2: Account,
    pub col_b_id: i64,
    pub col_b: Member,
    pub col_b_clave: String,
    pub col_b_name: String,
}

impl World {
    pub async fn build(app: &TestApp) -> Self {
        let admin_session = app.login_admin().await;
        let admin = Member {
            account: Account {
                user_id: admin_session.user_id(),
                email: ADMIN_EMAIL.into(),
                password: ADMIN_PASSWORD.into(),
            },
            session: admin_session.clone(),
        };
        let ad = admin_session.bearer();

        let reply = app
            .post(
                "/api/v1/users",
                &ad,
                json!({"email": "revisora@iepc-dgo.apoyo.test", "name": "Revisora Mesa de Control", "role": "reviewer"}),
            )
            .await
            .expect(201);
        let mut reviewer_account = created_account(&reply);
        let reviewer_session = app.activate(&mut reviewer_account).await;

        let process_id = app
            .post("/api/v1/processes", &ad, app.process_body(PROCESS_NAME))
            .await
            .expect(201)
            .id();
        let offices = format!("/api/v1/processes/{process_id}/offices");
        let office_a = app
            .post(
                &offices,
                &ad,
                app.ayuntamiento_body("Ayuntamiento de Durango", 5),
            )
            .await
            .expect(201)
            .id();
        let office_b = app
            .post(
                &offices,
                &ad,
                app.ayuntamiento_body("Ayuntamiento de Gómez Palacio", 7),
            )
            .await
            .expect(201)
            .id();

        let other_process_name = "Consulta popular estatal 2025".to_owned();
        let mut body = app.process_body(&other_process_name);
        body["kind"] = json!("popular_consultation");
        let other_process_id = app
            .post("/api/v1/processes", &ad, body)
            .await
            .expect(201)
            .id();
        let other_office = app
            .post(
                &format!("/api/v1/processes/{other_process_id}/offices"),
                &ad,
                json!({"kind": "state", "name": "Estado de Durango", "state": STATE, "threshold_kind": "fixed", "threshold_value": 40}),
            )
            .await
            .expect(201)
            .id();

        let (aspirant_a, mut a_account) = app
            .register_aspirant(&admin_session, process_id, office_a, "Alicia Aguirre Arce")
            .await;
        let a_session = app.activate(&mut a_account).await;
        let b_name = "Bruno Barraza Bueno".to_owned();
        let (aspirant_b, mut b_account) = app
            .register_aspirant(&admin_session, process_id, office_b, &b_name)
            .await;
        let b_session = app.activate(&mut b_account).await;

        let (col_a_id, col_a_clave, mut col_a_account) = app
            .register_collector(&a_session, aspirant_a, "Carla Cisneros Campos")
            .await;
        let col_a_session = app.activate(&mut col_a_account).await;
        let (col_a2_id, _, col_a2) = app
            .register_collector(&a_session, aspirant_a, "César Cano Cruz")
            .await;
        let col_b_name = "Dora Delgado Díaz".to_owned();
        let (col_b_id, col_b_clave, mut col_b_account) = app
            .register_collector(&b_session, aspirant_b, &col_b_name)
            .await;
        let col_b_session = app.activate(&mut col_b_account).await;

        Self {
            admin,
            reviewer: Member {
                account: reviewer_account,
                session: reviewer_session,
            },
            process_id,
            office_a,
            office_b,
            other_process_id,
            other_process_name,
            other_office,
            aspirant_a,
            a: Member {
                account: a_account,
                session: a_session,
            },
            aspirant_b,
            b: Member {
                account: b_account,
                session: b_session,
            },
            b_name,
            col_a_id,
            col_a: Member {
                account: col_a_account,
                session: col_a_session,
            },
            col_a_clave,
            col_a2_id,
            col_a2,
            col_b_id,
            col_b: Member {
                account: col_b_account,
                session: col_b_session,
            },
            col_b_clave,
            col_b_name,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Supports
// ---------------------------------------------------------------------------------------

/// A real JPEG of `width`×`height` (grey gradient), encoded by the `image` crate.
pub fn jpeg(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| {
        let v = u8::try_from((x + y) % 200).unwrap().wrapping_add(shade);
        image::Rgb([v, v / 2, 255 - v])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&pixels)
        .unwrap();
    out
}

/// Marks an EXIF segment with GPS carries; tests look for them in stored images.
pub const EXIF_MARK: &[u8] = b"GPSLatitude 24.0277 GPSLongitude -104.6532";

/// The JPEG with an APP1 Exif segment (carrying [`EXIF_MARK`]) right after SOI.
pub fn with_exif(jpeg: &[u8]) -> Vec<u8> {
    let mut payload = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    payload.extend_from_slice(EXIF_MARK);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The four images of a support: (part name, bytes, declared content type).
pub fn support_images(shade: u8) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    ["front", "back", "live_photo", "signature"]
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            (
                name,
                jpeg(96, 64, shade.wrapping_add(u8::try_from(i).unwrap() * 40)),
                "image/jpeg",
            )
        })
        .collect()
}

/// The `support` part: well-formed fields (model G: CIC and identificador).
pub fn support_fields(client_id: &str, n: u32) -> Value {
    let captured_at = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    json!({
        "client_id": client_id,
        "captured_at": captured_at,
        "location": {"latitude": 24.0277, "longitude": -104.6532},
        "credential": {
            "model": "G",
            "cic": format!("{:09}", 200_000_000 + n),
            "citizen_id": format!("{:09}", 100_000_000 + n),
            "section": "301",
            "paternal_surname": "GARCIA",
            "maternal_surname": "TORRES",
            "given_names": "LUIS",
        },
        "precheck_failed": ["clave.name_letters"],
    })
}

impl TestApp {
    /// `POST /api/v1/supports` as multipart: the `support` part (JSON text, unless
    /// `fields` is a string, sent as is) and the given parts.
    pub async fn send_support(
        &self,
        auth: &Auth,
        fields: &Value,
        parts: Vec<(&'static str, Vec<u8>, &'static str)>,
    ) -> Reply {
        self.send_multipart("/api/v1/supports", auth, fields, parts)
            .await
    }

    /// A paper support for `aspirant_id` (OPL staff): `fields` without `location`, and the
    /// `front`, `back` and `signature` images.
    pub async fn send_paper_support(&self, auth: &Auth, aspirant_id: i64, fields: &Value) -> Reply {
        let mut fields = fields.clone();
        if let Some(object) = fields.as_object_mut() {
            object.remove("location");
        }
        let parts = support_images(3)
            .into_iter()
            .filter(|(name, ..)| *name != "live_photo")
            .collect();
        self.send_multipart(
            &format!("/api/v1/aspirants/{aspirant_id}/paper-supports"),
            auth,
            &fields,
            parts,
        )
        .await
    }

    /// `POST path` as multipart: the `support` part (JSON text, unless `fields` is a
    /// string, sent as is) and the given parts.
    pub async fn send_multipart(
        &self,
        path: &str,
        auth: &Auth,
        fields: &Value,
        parts: Vec<(&'static str, Vec<u8>, &'static str)>,
    ) -> Reply {
        let text = match fields {
            Value::String(raw) => raw.clone(),
            other => other.to_string(),
        };
        let mut form = reqwest::multipart::Form::new().part(
            "support",
            reqwest::multipart::Part::text(text)
                .mime_str("application/json")
                .unwrap(),
        );
        for (name, bytes, mime) in parts {
            form = form.part(
                name,
                reqwest::multipart::Part::bytes(bytes)
                    .file_name(format!("{name}.jpg"))
                    .mime_str(mime)
                    .unwrap(),
            );
        }
        let mut builder = self.http.post(self.url(path)).multipart(form);
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => builder = builder.bearer_auth(token),
            Auth::Cookie { token, csrf } => {
                builder = builder.header("cookie", format!("apoyo_session={token}"));
                if let Some(csrf) = csrf {
                    builder = builder.header(CSRF_HEADER, csrf);
                }
            }
        }
        let response = builder
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        reply(format!("POST {path}"), response).await
    }

    /// Moves a process's collection period around today (UTC−6), directly in the database:
    /// the world's processes are dated 2025.
    pub async fn open_collection(&self, process_id: i64) {
        self.set_collection(process_id, -10, 20, 24).await;
    }

    /// Sets a process's collection period to the local (UTC−6) days `today + starts` to
    /// `today + ends`, with `grace_hours`, directly in the database.
    pub async fn set_collection(&self, process_id: i64, starts: i64, ends: i64, grace_hours: i64) {
        let today =
            (time::OffsetDateTime::now_utc().unix_timestamp() - 6 * 3600).div_euclid(86_400);
        let day = |offset: i64| Date::from_days_since_epoch(today + offset).to_string();
        let db = self.db().await;
        sqlx::query(
            "UPDATE processes SET collection_starts_on = $1, collection_ends_on = $2, grace_hours = $3 WHERE id = $4",
        )
        .bind(day(starts))
        .bind(day(ends))
        .bind(grace_hours)
        .bind(process_id)
        .execute(&db)
        .await
        .unwrap();
        db.close().await;
    }
}

/// Helpers shared by the tests that send supports and wait for the worker.
impl TestApp {
    /// The world, with its 2025 process moved into an open collection period.
    pub async fn world_in_period(&self) -> World {
        let world = World::build(self).await;
        self.open_collection(world.process_id).await;
        world
    }

    /// Sends a support capturing the harness roll's credential `n`
    /// (`support_fields(_, i*10 + emision)` is citizen `i`'s credential of that emisión);
    /// returns its id.
    pub async fn send_credential(&self, collector: &Auth, n: u32) -> i64 {
        let client_id = format!("0190f1c2-bbbb-7000-8000-{:012}", self.unique());
        self.send_support(collector, &support_fields(&client_id, n), support_images(7))
            .await
            .expect(201)
            .body["support_id"]
            .as_i64()
            .unwrap()
    }

    /// One integer from the database file.
    pub async fn scalar(&self, sql: &str) -> i64 {
        let db = self.db().await;
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&db)
            .await
            .unwrap();
        db.close().await;
        n
    }

    /// Runs a statement on the database file (to stage a situation the API cannot make).
    pub async fn execute_sql(&self, sql: &str) {
        let db = self.db().await;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&db)
            .await
            .unwrap();
        db.close().await;
    }

    /// Waits until no verification job is pending or running.
    pub async fn all_verified(&self) {
        self.wait_for_zero(
            "SELECT COUNT(*) FROM verification_jobs WHERE status IN ('pending', 'running')",
            30,
            "verification jobs still not done",
        )
        .await;
    }

    /// Polls `count_sql` until it gives 0, failing after `seconds`.
    pub async fn wait_for_zero(&self, count_sql: &str, seconds: u64, what: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let left = self.scalar(count_sql).await;
            if left == 0 {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "{left} {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Imports another roll snapshot (not activated) into the running app's database.
    pub async fn import_snapshot(&self, name: &str, cut_date: Date, file: String) {
        let store = self.store().await;
        store
            .import_roll(
                Cursor::new(file.into_bytes()),
                ImportOptions {
                    name: name.into(),
                    cut_date,
                    activate: false,
                },
                |_| {},
            )
            .await
            .unwrap();
        store.close().await;
    }

    /// Waits until no verification job and no batch re-verification is pending or running.
    pub async fn all_reverified(&self) {
        self.wait_for_zero(
            "SELECT (SELECT COUNT(*) FROM reverification_runs WHERE status IN ('pending', 'running')) \
             + (SELECT COUNT(*) FROM verification_jobs WHERE status IN ('pending', 'running'))",
            60,
            "re-verifications or jobs still not done",
        )
        .await;
    }
}

// ---------------------------------------------------------------------------------------
// Browser tests (tests/browser/*.mjs in headless Chromium)
// ---------------------------------------------------------------------------------------

/// The repository's root.
pub fn repo_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Chromium, node and the npm packages, or why a browser test cannot run.
fn browser_prerequisites() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        return Err(format!(
            "{} not found (apt-get install chromium, or set CHROMIUM_PATH)",
            chromium.display()
        ));
    }
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node not found".into());
    }
    let modules = repo_root().join("tests/browser/node_modules");
    for package in ["playwright-core", "axe-core"] {
        if !modules.join(package).is_dir() {
            return Err(format!(
                "{package} not installed (cd tests/browser && npm ci)"
            ));
        }
    }
    Ok(chromium)
}

/// Chromium for the browser test of `what`, or `None` after saying it is skipped; with
/// `APOYO_BROWSER_TESTS=required` (CI) a missing prerequisite fails instead.
pub fn chromium_or_skip(what: &str) -> Option<PathBuf> {
    match browser_prerequisites() {
        Ok(path) => Some(path),
        Err(why) => {
            if std::env::var("APOYO_BROWSER_TESTS").as_deref() == Ok("required") {
                panic!("browser tests required (APOYO_BROWSER_TESTS=required) but {why}");
            }
            eprintln!("SKIPPED: browser tests of {what}: {why}");
            None
        }
    }
}

/// Runs `node tests/browser/<spec> <config_path>` and reads the JSON the spec wrote to
/// `result_path` (`Null` when it wrote none): (whether it succeeded, the result).
pub async fn run_browser_spec(
    spec: &str,
    config_path: PathBuf,
    result_path: &std::path::Path,
) -> (bool, Value) {
    let spec = repo_root().join("tests/browser").join(spec);
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(spec)
            .arg(config_path)
            .current_dir(repo_root().join("tests/browser"))
            .status()
    })
    .await
    .unwrap()
    .unwrap();
    let result = serde_json::from_str(&std::fs::read_to_string(result_path).unwrap_or_default())
        .unwrap_or(Value::Null);
    (status.success(), result)
}
