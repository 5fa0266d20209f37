//! `rumbo` — the one binary of Rumbo.
//!
//! `rumbo demo` opens a populated instance; `rumbo serve` runs the server on the configured
//! database; the other subcommands manage the store from the command line. Run
//! `rumbo --help` for the list.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use rumbo_domain::boundaries::BoundaryOptions;
use rumbo_domain::demo;
use rumbo_domain::secrets::{check_password_strength, hash_password, new_secret, secret_hash};
use rumbo_server::outputs::report::ReportParams;
use rumbo_server::settings::{EXAMPLE_CONFIG, Settings, sqlite_url};
use rumbo_server::{AppState, ServerConfig};
use rumbo_store::Store;
use rumbo_store::model::{Actor, ListFilter, Role, UserInput};

#[derive(Parser)]
#[command(name = "rumbo", version, about = "Information system for regional migration and displacement responses")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and API.
    Serve {
        #[command(flatten)]
        settings: Settings,
    },
    /// Open a demo instance: 18 countries, their admin-1 areas, flow-monitoring points, one user per role.
    Demo {
        /// Keep the demo in this folder (default: a temporary folder removed on exit).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Port to listen on (on 127.0.0.1).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Password of every demo user.
        #[arg(long, env = "RUMBO_DEMO_PASSWORD", default_value = demo::DEFAULT_DEMO_PASSWORD)]
        demo_password: String,
        /// Use this database instead of SQLite in the data folder (it must be empty, or hold a demo).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Apply the database migrations and exit.
    Migrate {
        #[command(flatten)]
        settings: Settings,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
        #[command(flatten)]
        settings: Settings,
    },
    /// Load data from files.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
        #[command(flatten)]
        settings: Settings,
    },
    /// Print a commented example configuration file.
    DefaultConfig,
    /// Check an XLSForm or convert it to an ODK XForm, like pyxform's xls2xform.
    Form {
        #[command(subcommand)]
        command: FormCommand,
    },
    /// Declare indicators from a file, or list them.
    Indicators {
        #[command(subcommand)]
        command: IndicatorCommand,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Rebuild every aggregate from the stored submissions (after a site moved to another
    /// area, or to check the live aggregates).
    Reaggregate {
        #[command(flatten)]
        settings: Settings,
    },
    /// Write a situation report (public figures of a country, or the region, for a round) as PDF or HTML.
    Report {
        /// The country (ISO alpha-3, e.g. COL); leave it out for the regional report.
        #[arg(long)]
        country: Option<String>,
        /// The round, by name ("Ronda 3 – 2025") or id.
        #[arg(long)]
        round: String,
        /// The report's language: es, pt or en.
        #[arg(long, default_value = "es")]
        lang: String,
        /// pdf or html.
        #[arg(long, default_value = "pdf")]
        format: String,
        /// Where to write it (default: a name made from the country, round and language).
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Check the hash-chained audit log (every line against its content and the line before).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every link of the chain; exit with an error at the first line that was
    /// changed, or that follows a removed one.
    Verify {
        /// A head noted earlier (`LINE:HASH`, from `rumbo audit head`): also checks that this
        /// line is still there, unchanged, so removing the newest lines is caught too.
        #[arg(long)]
        expect_head: Option<String>,
    },
    /// Print the newest line and its hash (`LINE:HASH`), to keep somewhere else.
    Head,
}

#[derive(Subcommand)]
enum IndicatorCommand {
    /// Save every indicator of a TOML indicator file (all or none) and build their aggregates.
    Load {
        /// The indicator file, e.g. data/indicators/dtm.toml.
        file: PathBuf,
        /// Who declares them (recorded in the audit log; must be allowed to declare indicators).
        #[arg(long = "as", value_name = "USERNAME")]
        user: String,
    },
    /// List the indicators, with their cells and any problem.
    List,
}

#[derive(Subcommand)]
enum FormCommand {
    /// Print every problem of an XLSForm (.xlsx, .xls, .csv, .md); exit status 1 if there is any.
    Check {
        /// The XLSForm file.
        file: PathBuf,
    },
    /// Print the ODK XForm of an XLSForm (exit status 1, and the problems, if it has any).
    Xform {
        /// The XLSForm file.
        file: PathBuf,
    },
    /// Publish an XLSForm: a new form, or a new version of the form with the same form_id.
    Publish {
        /// The XLSForm file.
        file: PathBuf,
        /// Countries a new form is for (ISO alpha-3, comma-separated).
        #[arg(long, value_delimiter = ',')]
        countries: Vec<String>,
        /// Who publishes (recorded in the audit log; must be allowed to manage forms there).
        #[arg(long = "as", value_name = "USERNAME")]
        user: String,
        #[command(flatten)]
        settings: Box<Settings>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. Without --password, a random one is generated and printed.
    Add {
        username: String,
        /// admin, im_officer, enumerator, caseworker, protection_focal_point, partner_reporter or viewer.
        #[arg(long)]
        role: String,
        /// Full name (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// Countries the user works in (ISO alpha-3, comma-separated).
        #[arg(long, value_delimiter = ',')]
        countries: Vec<String>,
        /// Scope the user to every country (regional staff).
        #[arg(long)]
        all_countries: bool,
        /// Organisation id (partner reporters).
        #[arg(long)]
        organisation: Option<i64>,
        #[arg(long, env = "RUMBO_USER_PASSWORD")]
        password: Option<String>,
    },
    /// List users.
    List,
    /// Set a user's password. Without --password, a random one is generated and printed.
    Passwd {
        username: String,
        #[arg(long, env = "RUMBO_USER_PASSWORD")]
        password: Option<String>,
    },
    /// Issue an API token for a user and print it.
    Token {
        username: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Load the 18 countries of the Venezuela response (ISO codes and names); safe to repeat.
    Countries,
    /// Import submissions to a form from a CSV or Excel file (a Kobo export works): columns are
    /// matched to fields by name, group path or label; every row is checked first.
    Submissions {
        /// The CSV, XLSX or XLS file.
        file: PathBuf,
        /// The form: its numeric id or its form_id.
        #[arg(long)]
        form: String,
        /// Who imports (the audit log records it; the user must be allowed to review the form's submissions).
        #[arg(long = "as", value_name = "USERNAME")]
        user: String,
        /// `dry-run` (check only), `all` (every row or none) or `valid` (only the valid rows).
        #[arg(long, default_value = "dry-run")]
        mode: String,
        /// Map a column to a field (`--map "Edad=age"`; `--map "Notes="` leaves a column out). Repeatable.
        #[arg(long = "map", value_name = "COLUMN=FIELD")]
        map: Vec<String>,
    },
    /// Load admin areas from a GeoJSON FeatureCollection, all or nothing.
    Boundaries {
        file: PathBuf,
        /// Country of every feature (default: each feature's adm0_a3 property).
        #[arg(long)]
        country: Option<String>,
        /// Admin level of the features.
        #[arg(long, default_value_t = 1)]
        level: i32,
        /// Merge features that share a p-code into one area.
        #[arg(long)]
        dissolve: bool,
        /// Update areas whose p-code exists already.
        #[arg(long)]
        replace: bool,
        /// Property holding the p-code.
        #[arg(long)]
        code_property: Option<String>,
        /// Property holding the name.
        #[arg(long)]
        name_property: Option<String>,
        /// Property holding the parent's p-code.
        #[arg(long)]
        parent_property: Option<String>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { settings } => serve(settings.load().map_err(anyhow::Error::msg)?).await,
        Command::Demo { data_dir, port, demo_password, database_url } => {
            run_demo(data_dir, port, &demo_password, database_url).await
        }
        Command::Migrate { settings } => {
            let settings = settings.load().map_err(anyhow::Error::msg)?;
            init_logging(&settings);
            open_store(&settings).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User { command, settings } => {
            user_command(command, &settings.load().map_err(anyhow::Error::msg)?).await
        }
        Command::Import { command, settings } => {
            import_command(command, &settings.load().map_err(anyhow::Error::msg)?).await
        }
        Command::DefaultConfig => {
            print!("{EXAMPLE_CONFIG}");
            Ok(())
        }
        Command::Form { command: FormCommand::Publish { file, countries, user, settings } } => {
            publish_form(&settings.load().map_err(anyhow::Error::msg)?, &file, countries, &user).await
        }
        Command::Form { command } => form_command(&command),
        Command::Indicators { command, settings } => {
            indicators_command(command, &settings.load().map_err(anyhow::Error::msg)?).await
        }
        Command::Reaggregate { settings } => reaggregate(&settings.load().map_err(anyhow::Error::msg)?).await,
        Command::Audit { command, settings } => {
            audit_command(&command, &settings.load().map_err(anyhow::Error::msg)?).await
        }
        Command::Report { country, round, lang, format, output, settings } => {
            let params = ReportParams { country, round: Some(round), lang: Some(lang), format: Some(format) };
            report_command(&params, output, &settings.load().map_err(anyhow::Error::msg)?).await
        }
    }
}

/// `rumbo indicators load|list`.
async fn indicators_command(command: IndicatorCommand, settings: &Settings) -> Result<()> {
    init_logging(settings);
    let store = open_store(settings).await?;
    let state = open_state(&store, settings).await?;
    match command {
        IndicatorCommand::Load { file, user } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let user = store.credentials(&user).await?.with_context(|| format!("no user named {user}"))?.user;
            let caller = rumbo_server::auth::Caller { user, csrf: None };
            let started = std::time::Instant::now();
            match rumbo_server::analytics::load_file(&state, &caller, &text).await {
                Ok(count) => println!(
                    "saved {count} indicator(s) from {} and built their aggregates in {:.1} s",
                    file.display(),
                    started.elapsed().as_secs_f64()
                ),
                Err(rumbo_server::error::ApiError::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{}: {}: {}", file.display(), e.field, e.message);
                    }
                    bail!("{} problem(s); nothing was saved", errors.len());
                }
                Err(e) => bail!("{e}"),
            }
        }
        IndicatorCommand::List => {
            let registry = state.analytics.registry();
            let cells = store.cell_counts().await?;
            for def in registry.defs() {
                let problems = registry
                    .problems(&def.id)
                    .map(|p| p.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "));
                println!(
                    "{:<24} {:<16} {:<10} {:>8} cells  {}{}",
                    def.id,
                    def.form,
                    def.kind.as_str(),
                    cells.get(&def.id).copied().unwrap_or_default(),
                    def.name_in("en"),
                    problems.map(|p| format!("  [cannot be computed: {p}]")).unwrap_or_default()
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

/// `rumbo reaggregate`: every aggregate rebuilt from the stored submissions.
/// `rumbo audit verify|head`.
async fn audit_command(command: &AuditCommand, settings: &Settings) -> Result<()> {
    init_logging(settings);
    let store = open_store(settings).await?;
    let result = match command {
        AuditCommand::Head => {
            let head = store.audit_log(1, None).await?;
            match head.first() {
                Some(line) => println!("{}:{}", line.id, line.hash),
                None => println!("the audit log is empty"),
            }
            Ok(())
        }
        AuditCommand::Verify { expect_head } => verify_audit(&store, expect_head.as_deref()).await,
    };
    store.close().await;
    result
}

async fn verify_audit(store: &rumbo_store::Store, expect_head: Option<&str>) -> Result<()> {
    let check = store.verify_audit_chain().await?;
    if let Some(line) = check.first_broken {
        anyhow::bail!(
            "the audit log is broken at line {line} (of {}): that line was changed, or a line before it was removed",
            check.lines
        );
    }
    if let Some(head) = expect_head {
        let (id, hash) = head
            .split_once(':')
            .and_then(|(id, hash)| Some((id.trim().parse::<i64>().ok()?, hash.trim())))
            .context("--expect-head takes LINE:HASH, as printed by `rumbo audit head`")?;
        match store.audit_line(id).await {
            Ok(line) if line.hash == hash => {}
            Ok(_) => anyhow::bail!("audit line {id} no longer has the hash noted: the log was rewritten from there"),
            Err(_) => anyhow::bail!("audit line {id} is gone: the newest lines of the log were removed"),
        }
    }
    println!("the audit log is intact: {} lines", check.lines);
    Ok(())
}

async fn reaggregate(settings: &Settings) -> Result<()> {
    init_logging(settings);
    let store = open_store(settings).await?;
    let state = open_state(&store, settings).await?;
    let started = std::time::Instant::now();
    let registry = state.analytics.registry();
    let (read, cells) = store.reaggregate(&rumbo_store::model::Actor::system("reaggregate"), registry.as_ref()).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "read {read} submissions, wrote {cells} cells in {seconds:.1} s ({:.0} submissions a second)",
        read as f64 / seconds.max(1e-9)
    );
    store.close().await;
    Ok(())
}

/// `rumbo report`: the situation report, as the server makes it, written to a file.
async fn report_command(params: &ReportParams, output: Option<PathBuf>, settings: &Settings) -> Result<()> {
    use rumbo_server::outputs::report;
    init_logging(settings);
    let store = open_store(settings).await?;
    let state = open_state(&store, settings).await?;
    let started = std::time::Instant::now();
    let problem = |e: rumbo_server::error::ApiError| match e.field() {
        Some(_) => anyhow::anyhow!("--{e}"),
        None => anyhow::anyhow!("{e}"),
    };
    let format = report::ReportFormat::parse(params.format.as_deref()).map_err(problem)?;
    let request = report::resolve(&state, params, rumbo_server::i18n::Lang::Es).await.map_err(problem)?;
    let built = report::build(&state, &request).await.map_err(problem)?;
    let gathered = started.elapsed().as_secs_f64();
    let bytes = report::write_as(built, format).await.map_err(problem)?;
    let path = output.unwrap_or_else(|| PathBuf::from(request.file_name(format)));
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "wrote {} ({} KiB) in {:.2} s: figures gathered in {gathered:.2} s, written as {} in {:.2} s",
        path.display(),
        bytes.len().div_ceil(1024),
        started.elapsed().as_secs_f64(),
        format.extension(),
        started.elapsed().as_secs_f64() - gathered,
    );
    store.close().await;
    Ok(())
}

/// `rumbo form check|xform FILE`: reads the file, prints the problems (one a line,
/// located by sheet, row and column) to standard error and exits with status 1, or
/// prints the summary or the XForm.
fn form_command(command: &FormCommand) -> Result<()> {
    let (FormCommand::Check { file } | FormCommand::Xform { file } | FormCommand::Publish { file, .. }) = command;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().map(|name| name.to_string_lossy().into_owned());
    match rumbo_xlsform::read_form(&bytes, name.as_deref()) {
        Err(errors) => {
            for error in &errors.0 {
                eprintln!("{}: {error}", file.display());
            }
            eprintln!("{} problem(s) found", errors.0.len());
            std::process::exit(1);
        }
        Ok(form) => {
            if let FormCommand::Xform { .. } = command {
                print!("{}", rumbo_xlsform::to_xform(&form));
            } else {
                let fields = form.walk().iter().filter(|(_, field)| !field.is_group()).count();
                println!(
                    "{}: no problems; form `{}` ({}), {fields} fields, {} choice lists, languages: {}",
                    file.display(),
                    form.id,
                    form.title,
                    form.choices.len(),
                    if form.languages.is_empty() { "one".to_owned() } else { form.languages.join(", ") }
                );
            }
            Ok(())
        }
    }
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUMBO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if settings.log_format.as_deref() == Some("json") { builder.json().try_init() } else { builder.try_init() };
}

/// Opens the configured store (creating the data folder for SQLite) and migrates it.
async fn open_store(settings: &Settings) -> Result<Store> {
    let url = settings.database_url().map_err(anyhow::Error::msg)?;
    if url.starts_with("sqlite:") && settings.database_url.is_none() && settings.database_url_file.is_none() {
        std::fs::create_dir_all(settings.data_dir())
            .with_context(|| format!("cannot create {}", settings.data_dir().display()))?;
    }
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", rumbo_store::redact_url(&url)))?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}

/// The server's state for a command: the same data folder and protection key as `serve`.
async fn open_state(store: &rumbo_store::Store, settings: &Settings) -> Result<AppState> {
    let config = ServerConfig {
        data_dir: settings.data_dir(),
        key_file: settings.key_file.clone(),
        consolidation: settings.consolidation(),
        ..ServerConfig::default()
    };
    AppState::open(store.clone(), config).await.map_err(|e| anyhow::anyhow!("cannot start: {e}"))
}

async fn serve(settings: Settings) -> Result<()> {
    init_logging(&settings);
    let started = std::time::Instant::now();
    let store = open_store(&settings).await?;
    let listen = settings.listen();
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listen, engine = ?store.engine(), ready_in_ms = started.elapsed().as_millis(), "Rumbo is listening");
    if store.count_users().await? == 0 {
        tracing::warn!("there are no users yet: create one with `rumbo user add NAME --role admin --all-countries`");
    }
    let state = AppState::open(
        store.clone(),
        ServerConfig {
            session_hours: settings.session_hours(),
            secure_cookies: settings.secure_cookies(),
            max_submission_bytes: settings.max_submission_mb() * 1024 * 1024,
            max_attachment_bytes: settings.max_attachment_mb() * 1024 * 1024,
            openrosa_allow_basic: settings.openrosa_allow_basic.unwrap_or(false),
            data_dir: settings.data_dir(),
            key_file: settings.key_file.clone(),
            create_key: true,
            consolidation: settings.consolidation(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot start: {e}"))?;
    rumbo_server::launch_with_listener(state, listener, rumbo_server::shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

async fn run_demo(data_dir: Option<PathBuf>, port: u16, password: &str, database_url: Option<String>) -> Result<()> {
    check_password_strength(password).map_err(|e| anyhow::anyhow!("--demo-password {e}"))?;
    let temp = match &data_dir {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("rumbo-demo-").tempdir()?),
    };
    let dir = data_dir.unwrap_or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()).unwrap_or_default());
    std::fs::create_dir_all(&dir)?;
    let settings = Settings {
        data_dir: Some(dir.clone()),
        database_url: Some(database_url.unwrap_or_else(|| sqlite_url(&dir.join("rumbo.db")))),
        listen: Some(format!("127.0.0.1:{port}")),
        ..Default::default()
    };
    init_logging(&settings);
    let store = open_store(&settings).await?;
    let mut rest = None;
    if store.count_users().await? == 0 {
        let started = std::time::Instant::now();
        let summary = demo::seed(&store, password).await.context("cannot fill the demo instance")?;
        println!(
            "Demo instance created in {:.1} s: {} countries, {} admin areas, {} sites ({} placed in their area by their coordinates), {} rounds, {} organisations.",
            started.elapsed().as_secs_f64(),
            summary.countries,
            summary.admin_areas,
            summary.sites,
            summary.sites_located,
            summary.rounds,
            summary.organisations
        );
        for user in store.list_users(&ListFilter { limit: Some(1000), ..Default::default() }).await?.items {
            store.set_digest_ha1(user.id, rumbo_server::openrosa::digest_secret(&user, password).as_deref()).await?;
        }
        let state = open_state(&store, &settings).await?;
        let started = std::time::Instant::now();
        // RUMBO_DEMO_SUBMISSIONS: how many submissions to make (tests use fewer). A tenth is
        // stored before the server opens; the rest arrive in the background.
        let total = std::env::var("RUMBO_DEMO_SUBMISSIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(200_000);
        let indicators = rumbo_server::collect::demo::publish(&state)
            .await
            .map_err(|e| anyhow::anyhow!("cannot publish the demo forms: {e}"))?;
        rumbo_server::protection::feedback::demo::fill(&state)
            .await
            .map_err(|e| anyhow::anyhow!("cannot fill the demo feedback: {e}"))?;
        let rules = rumbo_server::protection::demo::rules(&state)
            .await
            .map_err(|e| anyhow::anyhow!("cannot declare the demo red-flag rules: {e}"))?;
        let first = rumbo_server::collect::demo::fill(&state, total, 0..1)
            .await
            .map_err(|e| anyhow::anyhow!("cannot fill the demo forms: {e}"))?;
        let (cases, receivers) = rumbo_server::protection::demo::cases(&state, password)
            .await
            .map_err(|e| anyhow::anyhow!("cannot fill the demo caseload: {e}"))?;
        println!(
            "Protection: {rules} red-flag rules on the survey, {cases} cases in Colombia with referrals in every state; \
             the receiving organisations' caseworkers (same password): {}.",
            receivers.join(", ")
        );
        // RUMBO_DEMO_5W_ROWS: report rows a year in the 5W demo (tests use fewer).
        let fivew_started = std::time::Instant::now();
        let rows_per_year = std::env::var("RUMBO_DEMO_5W_ROWS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(rumbo_server::response::demo::DEFAULT_ROWS_PER_YEAR);
        let fivew = rumbo_server::response::demo::fill(&state, rows_per_year, chrono::Utc::now().date_naive())
            .await
            .map_err(|e| anyhow::anyhow!("cannot fill the demo 5W reports: {e}"))?;
        println!(
            "5W: {} organisations, plans {}, {} activity rows ({} awaiting review, {} of them flagged; {} returned; \
             {} refused uploads), in {:.1} s.",
            fivew.organisations,
            fivew.plans.iter().map(ToString::to_string).collect::<Vec<_>>().join("–"),
            fivew.rows,
            fivew.awaiting_review,
            fivew.flagged,
            fivew.returned,
            fivew.refused_uploads,
            fivew_started.elapsed().as_secs_f64(),
        );
        println!(
            "Demo forms published in {:.1} s: 4 forms, {indicators} DTM indicators, {first} submissions \
             (a tenth of each round, and the baseline); the rest of the {total} survey and registry \
             submissions load in the background (the dashboard follows them live).",
            started.elapsed().as_secs_f64(),
        );
        rest = Some(total);
    } else {
        println!("Reusing the instance in {}.", dir.display());
    }
    println!("Data folder: {}", dir.display());
    println!("\n  Open http://127.0.0.1:{port}/ and sign in as one of (password: {password}):");
    for role in Role::ALL {
        println!("    {:<24} {}", role.as_str(), describe(*role));
    }
    println!(
        "\n  Dashboard: http://127.0.0.1:{port}/dashboard (live: a simulated submission arrives every few seconds)\n  Web forms: http://127.0.0.1:{port}/collect · captive portal: http://127.0.0.1:{port}/portal/rumbo_wifi"
    );
    println!(
        "  ODK Collect / KoboCollect server: http://<this machine>:{port}/openrosa (Digest sign-in with a demo user)"
    );
    println!("\n  API: http://127.0.0.1:{port}/api/v1/openapi.json · stop with Ctrl-C\n");
    let listener = tokio::net::TcpListener::bind(settings.listen())
        .await
        .with_context(|| format!("cannot listen on port {port}"))?;
    let state = AppState::open(store.clone(), ServerConfig { data_dir: dir.clone(), ..ServerConfig::default() })
        .await
        .map_err(|e| anyhow::anyhow!("cannot start: {e}"))?;
    if let Some(total) = rest {
        let background = state.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match rumbo_server::collect::demo::fill(&background, total, 1..10).await {
                Ok(n) => println!("  Demo: {n} more submissions loaded in {:.0} s.", started.elapsed().as_secs_f64()),
                Err(e) => eprintln!("  Demo: loading the remaining submissions stopped: {e}"),
            }
        });
    }
    // RUMBO_DEMO_TRICKLE_MS: how often a simulated submission arrives (0: never).
    let every = std::env::var("RUMBO_DEMO_TRICKLE_MS").ok().and_then(|n| n.parse().ok()).unwrap_or(1500);
    if every > 0 {
        tokio::spawn(rumbo_server::collect::demo::trickle(state.clone(), std::time::Duration::from_millis(every)));
    }
    rumbo_server::launch_with_listener(state, listener, rumbo_server::shutdown_signal()).await?;
    store.close().await;
    drop(temp);
    Ok(())
}

fn describe(role: Role) -> &'static str {
    match role {
        Role::Admin => "regional administrator, every country",
        Role::ImOfficer => "information-management officer: Colombia, Venezuela, Ecuador, Peru",
        Role::Enumerator => "enumerator, Colombia",
        Role::Caseworker => "protection caseworker (HIAS), Colombia; caseworker_<org> answer its referrals",
        Role::ProtectionFocalPoint => "protection and PSEA focal point (HIAS), Colombia: supervises cases",
        Role::PartnerReporter => "partner reporter (NRC), Colombia",
        Role::Viewer => "read-only, every country",
    }
}

fn password_or_new(password: Option<String>) -> Result<(String, bool)> {
    match password {
        Some(p) => {
            check_password_strength(&p).map_err(|e| anyhow::anyhow!("password {e}"))?;
            Ok((p, false))
        }
        None => Ok((new_secret("")[..20].to_string(), true)),
    }
}

async fn user_command(command: UserCommand, settings: &Settings) -> Result<()> {
    init_logging(settings);
    let store = open_store(settings).await?;
    let actor = Actor::system("cli");
    match command {
        UserCommand::Add { username, role, name, countries, all_countries, organisation, password } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role {e}"))?;
            let (password, generated) = password_or_new(password)?;
            let mut input = UserInput {
                display_name: name.unwrap_or_else(|| username.clone()),
                username,
                role,
                organisation_id: organisation,
                all_countries,
                countries,
                active: true,
            };
            input.normalise();
            let user = store.save_user(&actor, None, &input, Some(&hash_password(&password))).await?;
            store.set_digest_ha1(user.id, rumbo_server::openrosa::digest_secret(&user, &password).as_deref()).await?;
            println!("created user {} ({})", user.username, user.role);
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::List => {
            let users = store.list_users(&ListFilter { limit: Some(100_000), ..Default::default() }).await?;
            for u in users.items {
                let scope = if u.all_countries { "all countries".to_string() } else { u.countries.join(",") };
                println!(
                    "{:<24} {:<24} {:<16} {}{}",
                    u.username,
                    u.role,
                    scope,
                    u.display_name,
                    if u.active { "" } else { " (inactive)" }
                );
            }
        }
        UserCommand::Passwd { username, password } => {
            let id = store.user_id_by_username(&username).await.with_context(|| format!("no user named {username}"))?;
            let (password, generated) = password_or_new(password)?;
            store.set_password(&actor, id, &hash_password(&password)).await?;
            let user = store.user(id).await?;
            store.set_digest_ha1(id, rumbo_server::openrosa::digest_secret(&user, &password).as_deref()).await?;
            println!("password of {username} changed");
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::Token { username, name, expires_in_days } => {
            let id = store.user_id_by_username(&username).await.with_context(|| format!("no user named {username}"))?;
            if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
                bail!("--expires-in-days must be between 1 and 3650");
            }
            let secret = new_secret("rumbo_");
            let expires = expires_in_days.map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            store.create_api_token(&actor, id, &name, &secret_hash(&secret), expires).await?;
            println!("{secret}");
        }
    }
    store.close().await;
    Ok(())
}

/// `rumbo form publish FILE --countries COL --as NAME`.
async fn publish_form(
    settings: &Settings,
    file: &std::path::Path,
    countries: Vec<String>,
    username: &str,
) -> Result<()> {
    init_logging(settings);
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().map_or_else(|| "form.xlsx".to_string(), |n| n.to_string_lossy().into_owned());
    let store = open_store(settings).await?;
    let user = store.credentials(username).await?.with_context(|| format!("no user named {username}"))?.user;
    let state = open_state(&store, settings).await?;
    let caller = rumbo_server::auth::Caller { user, csrf: None };
    match rumbo_server::collect::ops::publish(&state, &caller, &name, bytes, countries).await {
        Ok(p) => println!(
            "published form {} (id {}) version {}{}",
            p.form.xml_form_id,
            p.form.id,
            p.version.version,
            if p.version.changes.is_empty() { String::new() } else { format!("\n{}", p.version.changes) }
        ),
        Err(rumbo_server::error::ApiError::Invalid(errors)) => {
            for e in &errors {
                eprintln!("{}: {}: {}", file.display(), e.field, e.message);
            }
            bail!("{} problem(s); nothing was published", errors.len());
        }
        Err(e) => bail!("{e}"),
    }
    store.close().await;
    Ok(())
}

/// `rumbo import submissions`: progress lines while it runs, then the report.
async fn import_submissions(
    settings: &Settings,
    file: &std::path::Path,
    form: &str,
    username: &str,
    mode: &str,
    map: &[String],
) -> Result<()> {
    use rumbo_server::collect::import;
    let mode = import::Mode::parse(&mode.replace('-', "_")).map_err(|e| anyhow::anyhow!("--mode: {e}"))?;
    let mapping = import::parse_mapping(&map.join("\n")).map_err(|e| anyhow::anyhow!("--map: {e}"))?;
    let store = open_store(settings).await?;
    let user = store.credentials(username).await?.with_context(|| format!("no user named {username}"))?.user;
    let state = open_state(&store, settings).await?;
    let caller = rumbo_server::auth::Caller { user, csrf: None };
    let mut last = 0;
    let report = import::run_cli(&state, &caller, form, file, &mapping, mode, |p| {
        if p.phase != "checking" || p.checked >= last + 500 || p.checked == p.total {
            last = p.checked;
            eprintln!("{}: checked {}/{} rows, stored {}", p.phase, p.checked, p.total, p.stored);
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    for e in &report.errors {
        eprintln!(
            "row {}{}{}: {}",
            e.row,
            e.column.as_deref().map(|c| format!(", column {c}")).unwrap_or_default(),
            e.field.as_deref().map(|f| format!(", field {f}")).unwrap_or_default(),
            e.message
        );
    }
    println!(
        "{}: {} rows, {} valid, {} invalid; {} stored, {} already there, {} skipped",
        file.display(),
        report.rows,
        report.valid,
        report.invalid,
        report.created,
        report.duplicates,
        report.skipped
    );
    if let Some(why) = &report.refused {
        println!("nothing was stored: {why}");
    }
    if !report.unmapped_columns.is_empty() {
        println!("columns not used: {}", report.unmapped_columns.join(", "));
    }
    store.close().await;
    if report.refused.is_some() || (mode == import::Mode::DryRun && report.invalid > 0) {
        std::process::exit(1);
    }
    Ok(())
}

async fn import_command(command: ImportCommand, settings: &Settings) -> Result<()> {
    init_logging(settings);
    let (file, country, level, dissolve, replace, code_property, name_property, parent_property) = match command {
        ImportCommand::Submissions { file, form, user, mode, map } => {
            return import_submissions(settings, &file, &form, &user, &mode, &map).await;
        }
        ImportCommand::Countries => {
            let store = open_store(settings).await?;
            let n = demo::load_countries(&store, &Actor::system("cli")).await?;
            println!("{n} countries loaded");
            store.close().await;
            return Ok(());
        }
        ImportCommand::Boundaries {
            file,
            country,
            level,
            dissolve,
            replace,
            code_property,
            name_property,
            parent_property,
        } => (file, country, level, dissolve, replace, code_property, name_property, parent_property),
    };
    let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let options = BoundaryOptions {
        level: Some(level),
        country: country.map(|c| c.to_uppercase()),
        code_property,
        name_property,
        parent_property,
        dissolve,
    };
    let areas = match rumbo_domain::boundaries::read_boundaries(&text, &options) {
        Ok(areas) => areas,
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {}: {}", file.display(), e.field, e.message);
            }
            bail!("{} problem(s) in {}; nothing was imported", errors.len(), file.display());
        }
    };
    let store = open_store(settings).await?;
    match store.import_admin_areas(&Actor::system("cli"), &areas, replace).await {
        Ok(summary) => println!("{}: {} areas created, {} updated", file.display(), summary.created, summary.updated),
        Err(e) => bail!("{e}; nothing was imported"),
    }
    store.close().await;
    Ok(())
}
