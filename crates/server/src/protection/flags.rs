//! Red flags: rules written in the forms' expression language, compiled against the current
//! version of their form and evaluated on every new submission inside the transaction that
//! stores it ([`Rules`] answers the store's `Contributor::alerts`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::FixedOffset;
use rumbo_analytics::definition::parse_expr;
use rumbo_analytics::registry::instance_from_json;
use rumbo_store::FieldError;
use rumbo_store::analytics::Facts;
use rumbo_store::protection::{FlagRule, FlagRuleInput, RaisedAlert, SEVERITIES};
use rumbo_xlsform::webform::{FieldPaths, field_paths};
use rumbo_xlsform::xpath::{self, Env, Expr};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// One compiled rule.
struct Compiled {
    id: i64,
    expr: Expr,
    severity: String,
    route_country: Option<String>,
    route_site_id: Option<i64>,
}

/// The active rules of one form.
struct FormRules {
    root: String,
    paths: FieldPaths,
    rules: Vec<Compiled>,
}

/// The rules in use, by form.
#[derive(Default)]
pub struct Rules {
    current: RwLock<Arc<HashMap<i64, FormRules>>>,
    /// Bumped after a write raised alerts or an alert changed; inboxes listen to it.
    feed: tokio::sync::watch::Sender<u64>,
}

impl Rules {
    fn get(&self) -> Arc<HashMap<i64, FormRules>> {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Whether an active rule reads the form.
    pub fn reads(&self, form_id: i64) -> bool {
        self.get().contains_key(&form_id)
    }

    /// The alerts a submission raises. A rule that cannot be evaluated on these answers (a
    /// missing value) raises nothing; the submission is stored all the same.
    pub fn alerts(&self, facts: &Facts<'_>) -> Vec<RaisedAlert> {
        let all = self.get();
        let Some(form) = all.get(&facts.form_id) else { return Vec::new() };
        let instance = instance_from_json(&form.root, facts.data);
        let day = facts.collected_on.unwrap_or_default();
        let now = FixedOffset::east_opt(0)
            .and_then(|utc| day.and_hms_opt(12, 0, 0).and_then(|t| t.and_local_timezone(utc).single()))
            .unwrap_or_default();
        let env = Env::new(&instance, &form.paths, now);
        let top = instance.root();
        form.rules
            .iter()
            .filter(|r| xpath::evaluate(&r.expr, &env, top).is_ok_and(|v| v.to_bool(&instance)))
            .filter_map(|r| {
                // A rule routed to a country (or a site) team concerns that team's own
                // submissions only: alerts never cross to a team that may not see them.
                let country = facts.country?;
                if r.route_country.as_deref().is_some_and(|c| c != country)
                    || r.route_site_id.is_some_and(|site| facts.site_id != Some(site))
                {
                    return None;
                }
                Some(RaisedAlert {
                    rule_id: r.id,
                    severity: r.severity.clone(),
                    country_code: country.to_owned(),
                    site_id: facts.site_id,
                })
            })
            .collect()
    }

    /// Puts compiled rules in use.
    fn set(&self, mut by_form: HashMap<i64, FormRules>) {
        by_form.retain(|_, f| !f.rules.is_empty());
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(by_form);
    }

    /// The feed inboxes listen to.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.feed.subscribe()
    }

    /// Tells open inboxes to look again.
    pub fn changed(&self) {
        self.feed.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// Compiles every active rule against its form's current version and puts them in use.
/// A rule that no longer fits its form (a field renamed) is left out, with a warning.
pub async fn reload(state: &AppState) -> ApiResult<()> {
    let mut by_form: HashMap<i64, FormRules> = HashMap::new();
    let mut forms: HashMap<i64, Option<Arc<crate::collect::Compiled>>> = HashMap::new();
    for rule in state.store.flag_rules(None).await?.into_iter().filter(|r| r.active) {
        if let std::collections::hash_map::Entry::Vacant(slot) = forms.entry(rule.form_id) {
            let compiled = if let Ok(record) = state.store.form(rule.form_id).await {
                state.collect.current(&record).await.ok()
            } else {
                None
            };
            slot.insert(compiled);
        }
        let compiled = forms.get(&rule.form_id).cloned().flatten();
        let Some(compiled) = compiled else { continue };
        add_rule(&mut by_form, &compiled.form, &rule);
    }
    state.analytics.flags().set(by_form);
    Ok(())
}

/// Compiles one rule against its form into `by_form` (left out, with a warning, if it no
/// longer fits the form).
fn add_rule(by_form: &mut HashMap<i64, FormRules>, form: &rumbo_xlsform::model::Form, rule: &FlagRule) {
    let mut problems = Vec::new();
    let Some(expr) = parse_expr("expression", &rule.expression, form, &mut problems) else {
        tracing::warn!(rule = rule.id, ?problems, "a red-flag rule no longer fits its form");
        return;
    };
    by_form
        .entry(rule.form_id)
        .or_insert_with(|| FormRules { root: form.root.clone(), paths: field_paths(form), rules: Vec::new() })
        .rules
        .push(Compiled {
            id: rule.id,
            expr,
            severity: rule.severity.clone(),
            route_country: rule.route_country.clone(),
            route_site_id: rule.route_site_id,
        });
}

/// Checks a rule against its form: the expression parses and names fields of the form, the
/// messages are there, the routing names a known country and a site of it.
pub async fn check(state: &AppState, rule: &FlagRuleInput) -> ApiResult<()> {
    let mut problems = Vec::new();
    let record = state
        .store
        .form(rule.form_id)
        .await
        .map_err(|_| ApiError::invalid("form_id", format!("there is no form {}", rule.form_id)))?;
    let text = |value: &str, field: &str, max: usize, problems: &mut Vec<FieldError>| {
        if value.trim().is_empty() {
            problems.push(FieldError::new(field, "is required"));
        } else if value.chars().count() > max {
            problems.push(FieldError::new(field, format!("is longer than {max} characters")));
        }
    };
    text(&rule.name, "name", 120, &mut problems);
    text(&rule.expression, "expression", 2000, &mut problems);
    for (field, value) in
        [("message_en", &rule.message_en), ("message_es", &rule.message_es), ("message_pt", &rule.message_pt)]
    {
        text(value, field, 500, &mut problems);
    }
    if !SEVERITIES.contains(&rule.severity.as_str()) {
        problems.push(FieldError::new("severity", format!("must be one of: {}", SEVERITIES.join(", "))));
    }
    if !rule.expression.trim().is_empty() {
        match state.collect.current(&record).await {
            Ok(compiled) => {
                parse_expr("expression", &rule.expression, &compiled.form, &mut problems);
            }
            Err(_) => problems.push(FieldError::new("form_id", "the form has no published version")),
        }
    }
    if let Some(country) = &rule.route_country
        && state.store.country(country).await.is_err()
    {
        problems.push(FieldError::new("route_country", format!("there is no country {country}")));
    }
    if let Some(site) = rule.route_site_id {
        match state.store.site(site).await {
            Ok(s) if rule.route_country.as_ref().is_none_or(|c| *c == s.country_code) => {}
            Ok(_) => problems.push(FieldError::new("route_site_id", "the site is not in the routing country")),
            Err(_) => problems.push(FieldError::new("route_site_id", format!("there is no site {site}"))),
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(ApiError::Invalid(problems)) }
}

/// The countries a rule concerns: its team's country, or every country of its form.
pub async fn rule_countries(state: &AppState, form_id: i64, route: Option<&str>) -> ApiResult<Vec<String>> {
    if let Some(c) = route {
        return Ok(vec![c.to_owned()]);
    }
    Ok(state.store.form(form_id).await?.countries.clone())
}

/// The message of a rule in a language, else English.
pub fn message(rule: &FlagRule, lang: crate::i18n::Lang) -> &str {
    match lang {
        crate::i18n::Lang::Es => &rule.message_es,
        crate::i18n::Lang::Pt => &rule.message_pt,
        crate::i18n::Lang::En => &rule.message_en,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use rumbo_domain::demo_submissions::{FLOW_MONITORING_FILE_NAME, FLOW_MONITORING_XLSX, demo_sites, generate};

    use super::*;

    /// The demo's rules on the demo's survey, and `count` generated submissions.
    fn demo(count: usize) -> (Rules, Vec<serde_json::Value>) {
        let form = rumbo_xlsform::parse::read_form(FLOW_MONITORING_XLSX, Some(FLOW_MONITORING_FILE_NAME))
            .expect("the demo form");
        let mut by_form = HashMap::new();
        for (i, (name, expression, severity, [en, es, pt])) in crate::protection::demo::RULES.iter().enumerate() {
            let rule = FlagRule {
                id: i as i64 + 1,
                form_id: 7,
                name: (*name).into(),
                expression: (*expression).into(),
                severity: (*severity).into(),
                message_en: (*en).into(),
                message_es: (*es).into(),
                message_pt: (*pt).into(),
                route_country: None,
                route_site_id: None,
                active: true,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            };
            add_rule(&mut by_form, &form, &rule);
        }
        assert_eq!(by_form[&7].rules.len(), 3, "every demo rule fits the demo form");
        let rules = Rules::default();
        rules.set(by_form);
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        (rules, generate(count, 42, &demo_sites(), start, 300))
    }

    fn raised(rules: &Rules, data: &serde_json::Value) -> Vec<RaisedAlert> {
        let facts =
            Facts { form_id: 7, data, site_id: Some(1), country: Some("COL"), round_id: None, collected_on: None };
        rules.alerts(&facts)
    }

    #[test]
    fn the_demo_rules_flag_a_few_submissions_of_each_kind() {
        let (rules, submissions) = demo(5_000);
        let mut by_rule = [0usize; 3];
        for data in &submissions {
            for alert in raised(&rules, data) {
                by_rule[(alert.rule_id - 1) as usize] += 1;
                assert_eq!(alert.country_code, "COL");
            }
        }
        // Each rule fires, and rarely: a red flag is an exception, not a routine.
        for (i, n) in by_rule.iter().enumerate() {
            assert!(*n > 0 && *n < 250, "rule {} raised {n} alerts in 5,000 submissions", i + 1);
        }
        // A submission without a country raises nothing (no team can receive it).
        let facts = Facts {
            form_id: 7,
            data: &submissions[0],
            site_id: None,
            country: None,
            round_id: None,
            collected_on: None,
        };
        assert!(rules.alerts(&facts).is_empty());
    }

    /// `cargo test --release -p rumbo-server rule_evaluation_rate -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement: run it on purpose"]
    fn rule_evaluation_rate() {
        let (rules, submissions) = demo(50_000);
        let started = std::time::Instant::now();
        let alerts: usize = submissions.iter().map(|d| raised(&rules, d).len()).sum();
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "3 rules on {} survey submissions: {alerts} alerts in {seconds:.2} s ({:.1} µs a submission)",
            submissions.len(),
            seconds * 1e6 / submissions.len() as f64
        );
    }
}
