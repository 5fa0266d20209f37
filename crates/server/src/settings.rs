//! One typed configuration: defaults < TOML file < `RUMBO_*` environment < command-line flags.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The example configuration printed by `rumbo default-config`.
pub const EXAMPLE_CONFIG: &str = include_str!("../rumbo.example.toml");

/// Settings of `rumbo serve` (and the other commands that open the store).
#[derive(Clone, Default, clap::Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// TOML configuration file (see `rumbo default-config`).
    #[arg(long, env = "RUMBO_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Folder for the embedded SQLite database [default: ./rumbo-data].
    #[arg(long, env = "RUMBO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Database URL: postgres://user:password@host/db, or sqlite:///path/rumbo.db [default: SQLite in the data folder].
    #[arg(long, env = "RUMBO_DATABASE_URL")]
    pub database_url: Option<String>,

    /// File holding the database URL (for secrets mounted as files).
    #[arg(long, env = "RUMBO_DATABASE_URL_FILE")]
    pub database_url_file: Option<PathBuf>,

    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "RUMBO_LISTEN")]
    pub listen: Option<String>,

    /// How many hours a sign-in lasts [default: 12].
    #[arg(long, env = "RUMBO_SESSION_HOURS")]
    pub session_hours: Option<i64>,

    /// Mark cookies Secure: set this when Rumbo is served over HTTPS [default: false].
    #[arg(long, env = "RUMBO_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,

    /// Log format: `text` or `json` [default: text].
    #[arg(long, env = "RUMBO_LOG_FORMAT")]
    pub log_format: Option<String>,

    /// Largest OpenRosa submission in one request, in MB; devices split bigger ones [default: 10].
    #[arg(long, env = "RUMBO_MAX_SUBMISSION_MB")]
    pub max_submission_mb: Option<usize>,

    /// Largest attachment of a submission, in MB [default: 10].
    #[arg(long, env = "RUMBO_MAX_ATTACHMENT_MB")]
    pub max_attachment_mb: Option<usize>,

    /// Accept HTTP Basic sign-in on /openrosa over plain HTTP (local networks only) [default: false].
    #[arg(long, env = "RUMBO_OPENROSA_ALLOW_BASIC")]
    pub openrosa_allow_basic: Option<bool>,

    /// File with the key that seals identifying fields of cases, referrals and feedback;
    /// keep it (and its backup) apart from the database [default: protection.key in the data folder].
    #[arg(long, env = "RUMBO_KEY_FILE")]
    pub key_file: Option<PathBuf>,

    /// How 5W report rows are consolidated into people reached: the `[consolidation]` table
    /// of the configuration file (see docs/response.md) [default: the RMRP method].
    #[arg(skip)]
    pub consolidation: Option<rumbo_analytics::fivew::Rules>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(rumbo_store::redact_url))
            .field("database_url_file", &self.database_url_file)
            .field("listen", &self.listen)
            .field("session_hours", &self.session_hours)
            .field("secure_cookies", &self.secure_cookies)
            .field("log_format", &self.log_format)
            .field("max_submission_mb", &self.max_submission_mb)
            .field("max_attachment_mb", &self.max_attachment_mb)
            .field("openrosa_allow_basic", &self.openrosa_allow_basic)
            .field("key_file", &self.key_file)
            .field("consolidation", &self.consolidation)
            .finish()
    }
}

impl Settings {
    /// Completes the flags and environment with the configuration file, if one is named.
    pub fn load(self) -> Result<Self, String> {
        let Some(path) = self.config.clone() else { return Ok(self) };
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: Settings = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(self.over(file))
    }

    /// `self` where set, else `lower`.
    pub fn over(self, lower: Settings) -> Settings {
        Settings {
            config: self.config,
            data_dir: self.data_dir.or(lower.data_dir),
            key_file: self.key_file.or(lower.key_file),
            database_url: self.database_url.or(lower.database_url),
            database_url_file: self.database_url_file.or(lower.database_url_file),
            listen: self.listen.or(lower.listen),
            session_hours: self.session_hours.or(lower.session_hours),
            secure_cookies: self.secure_cookies.or(lower.secure_cookies),
            log_format: self.log_format.or(lower.log_format),
            max_submission_mb: self.max_submission_mb.or(lower.max_submission_mb),
            max_attachment_mb: self.max_attachment_mb.or(lower.max_attachment_mb),
            openrosa_allow_basic: self.openrosa_allow_basic.or(lower.openrosa_allow_basic),
            consolidation: self.consolidation.or(lower.consolidation),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| PathBuf::from("rumbo-data"))
    }

    /// The database URL: given, read from a file, or SQLite in the data folder.
    pub fn database_url(&self) -> Result<String, String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        if let Some(file) = &self.database_url_file {
            return std::fs::read_to_string(file)
                .map(|s| s.trim().to_string())
                .map_err(|e| format!("cannot read the database URL file {}: {e}", file.display()));
        }
        Ok(sqlite_url(&self.data_dir().join("rumbo.db")))
    }

    pub fn listen(&self) -> String {
        self.listen.clone().unwrap_or_else(|| "127.0.0.1:8080".into())
    }

    pub fn max_submission_mb(&self) -> usize {
        self.max_submission_mb.unwrap_or(10).clamp(1, 1024)
    }

    pub fn max_attachment_mb(&self) -> usize {
        self.max_attachment_mb.unwrap_or(10).clamp(1, 1024)
    }

    pub fn session_hours(&self) -> i64 {
        self.session_hours.unwrap_or(12).clamp(1, 24 * 90)
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(false)
    }

    /// The 5W consolidation rules (the RMRP method unless the file says otherwise).
    pub fn consolidation(&self) -> rumbo_analytics::fivew::Rules {
        self.consolidation.clone().unwrap_or_default()
    }
}

/// The SQLite URL of a database file.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_database_password() {
        let s = Settings { database_url: Some("postgres://rumbo:hunter22@db/rumbo".into()), ..Default::default() };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter22"), "{shown}");
        assert!(shown.contains("rumbo:***@db"));
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let file: Settings = toml::from_str("listen = \"0.0.0.0:9000\"\nsession_hours = 4\n").unwrap();
        let cli = Settings { session_hours: Some(8), ..Default::default() };
        let merged = cli.over(file);
        assert_eq!(merged.session_hours(), 8);
        assert_eq!(merged.listen(), "0.0.0.0:9000");
        assert!(!merged.secure_cookies());
        assert!(merged.database_url().unwrap().starts_with("sqlite://rumbo-data"));
    }

    #[test]
    fn consolidation_rules_come_from_the_file_and_unknown_ones_are_refused() {
        use rumbo_analytics::fivew::{AcrossMonths, Combine, Rules};
        let file: Settings =
            toml::from_str("[consolidation]\norganisations = \"max\"\nmonths = \"max_month\"\n").unwrap();
        let rules = Settings::default().over(file).consolidation();
        assert_eq!(rules.organisations, Combine::Max);
        assert_eq!(rules.months, AcrossMonths::MaxMonth);
        assert_eq!(rules.sectors, Rules::default().sectors);
        assert_eq!(Settings::default().consolidation(), Rules::default());
        let wrong = toml::from_str::<Settings>("[consolidation]\nmonths = \"every\"\n").unwrap_err().to_string();
        assert!(wrong.contains("months") || wrong.contains("every"), "{wrong}");
        assert!(toml::from_str::<Settings>("[consolidation]\nsector = \"max\"\n").is_err());
    }

    #[test]
    fn the_example_configuration_parses() {
        let example: Settings = toml::from_str(EXAMPLE_CONFIG).expect("example config parses");
        assert_eq!(example.listen(), "127.0.0.1:8080");
    }
}
