//! The collection part of `rumbo demo`: the DTM forms (flow-monitoring survey and registry,
//! mobility-tracking baseline; XLSForms in Spanish, Portuguese and English) published for
//! every demo country, the DTM indicators, a few hundred thousand submissions over six
//! rounds, a short public form for the captive portal, and a trickle of new submissions.

use chrono::{NaiveDate, Utc};
use rumbo_domain::demo_dtm;
use rumbo_domain::demo_submissions::{self, FLOW_MONITORING_FILE_NAME, FLOW_MONITORING_XLSX};
use rumbo_store::collection::{Channel, FormSettings};
use rumbo_store::model::User;

use super::{Envelope, Submitter};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// The short form of the captive-portal demo: what someone passing a Wi-Fi point needs.
pub const PORTAL_FORM: &str = "\
| survey   |                      |             |                                   |                                      |                                    |          |
|          | type                 | name        | label::Español (es)                | label::Português (pt)                 | label::English (en)                 | required |
|          | select_one countries | country     | ¿En qué país está ahora?          | Em que país você está agora?         | Which country are you in now?      | yes      |
|          | select_multiple need | needs       | ¿Qué necesita hoy?                | Do que você precisa hoje?            | What do you need today?            | yes      |
|          | integer              | people      | ¿Cuántas personas viajan con usted (contándose)? | Quantas pessoas viajam com você (contando você)? | How many people travel with you (yourself included)? |          |
|          | text                 | message     | ¿Algo más que quiera decirnos?    | Algo mais que queira nos dizer?      | Anything else you want to tell us? |          |
| choices  |                      |             |                                   |                                      |                                    |          |
|          | list_name            | name        | label::Español (es)                | label::Português (pt)                 | label::English (en)                 |          |
|          | countries            | COL         | Colombia                          | Colômbia                             | Colombia                           |          |
|          | countries            | ECU         | Ecuador                           | Equador                              | Ecuador                            |          |
|          | countries            | PER         | Perú                              | Peru                                 | Peru                               |          |
|          | countries            | BRA         | Brasil                            | Brasil                               | Brazil                             |          |
|          | countries            | CHL         | Chile                             | Chile                                | Chile                              |          |
|          | countries            | PAN         | Panamá                            | Panamá                               | Panama                             |          |
|          | need                 | information | Información sobre la ruta          | Informações sobre a rota             | Information about the route        |          |
|          | need                 | health      | Salud                             | Saúde                                | Health care                        |          |
|          | need                 | food        | Alimentos y agua                  | Alimentos e água                     | Food and water                     |          |
|          | need                 | shelter     | Alojamiento                       | Abrigo                               | Shelter                            |          |
|          | need                 | documents   | Documentos y trámites             | Documentos                           | Documents                          |          |
|          | need                 | protection  | Hablar con alguien en privado     | Falar com alguém em particular       | To talk to someone in private      |          |
| settings |                      |             |                                   |                                      |                                    |          |
|          | form_title           | form_id     | version                           | default_language                     |                                    |          |
|          | Punto Wi-Fi: ¿qué necesita?      | rumbo_wifi  | 2026112701                        | Español (es)                         |                                    |          |
";

/// The DTM indicator set the demo declares.
pub const DTM_INDICATORS: &str = include_str!("../../../../data/indicators/dtm.toml");

/// What the collection demo holds.
pub struct Seeded {
    pub forms: usize,
    pub submissions: usize,
    pub indicators: usize,
}

/// How the demo's submissions are shared: per round, the survey gets 70%, the registry
/// 30% (each record a shift at a point, counting dozens of people); the baseline one
/// estimate per admin-1 area and round. Later rounds get a little more.
fn per_round(total: usize, round: usize) -> (usize, usize) {
    let weights = [14, 15, 16, 17, 18, 20];
    let share = total * weights[round] / weights.iter().sum::<usize>();
    (share * 7 / 10, share - share * 7 / 10)
}

/// Publishes the demo forms (the DTM survey, registry and baseline, and the captive-portal
/// form) and declares the DTM indicators; returns how many indicators.
pub async fn publish(state: &AppState) -> ApiResult<usize> {
    let admin = user(state, "admin").await?;
    let countries: Vec<String> = rumbo_domain::demo::COUNTRIES.iter().map(|c| c.0.to_string()).collect();
    let caller = Caller { user: admin.clone(), csrf: None };
    for (file, bytes) in [
        (FLOW_MONITORING_FILE_NAME, FLOW_MONITORING_XLSX),
        (demo_dtm::FMR_FILE_NAME, demo_dtm::FMR_XLSX),
        (demo_dtm::BASELINE_FILE_NAME, demo_dtm::BASELINE_XLSX),
    ] {
        super::ops::publish(state, &caller, file, bytes.to_vec(), countries.clone()).await?;
    }
    let portal = super::ops::publish(
        state,
        &caller,
        "rumbo_wifi.md",
        PORTAL_FORM.as_bytes().to_vec(),
        vec!["COL".into(), "ECU".into(), "PER".into(), "BRA".into(), "CHL".into(), "PAN".into()],
    )
    .await?;
    super::ops::update_form(
        state,
        &caller,
        portal.form.id,
        FormSettings { public: Some(true), ..FormSettings::default() },
    )
    .await?;
    crate::analytics::load_file(state, &caller, DTM_INDICATORS).await
}

/// Fills the DTM forms with their share of about `total` submissions over the six demo
/// rounds: the tenths `tenths` of each round's stream (`0..10` for all of it), so that a
/// first tenth can open the demo at once and the rest follow in the background. The
/// aggregates are built as the submissions are stored, as for any submission. Returns how
/// many were stored.
pub async fn fill(state: &AppState, total: usize, tenths: std::ops::Range<usize>) -> ApiResult<usize> {
    let admin = user(state, "admin").await?;
    let enumerator = user(state, "enumerator").await.ok();
    let sites = demo_submissions::demo_sites();
    let part = |n: usize| (n * tenths.start / 10, n * tenths.end / 10 - n * tenths.start / 10);
    let mut stored = 0;
    for (i, (_, (y, m, d), (y2, m2, d2))) in rumbo_domain::demo::DEMO_ROUNDS.into_iter().enumerate() {
        let start = NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| ApiError::Internal("bad round date".into()))?;
        let end = NaiveDate::from_ymd_opt(y2, m2, d2).ok_or_else(|| ApiError::Internal("bad round date".into()))?;
        // The open round runs until today at most.
        let last = end.min(Utc::now().date_naive()).max(start);
        let days = (last - start).num_days().max(0) as u32 + 1;
        let (interviews, shifts) = per_round(total, i);
        let seed = 20_261_127 + i as u64;
        // Generated as they are stored: 200,000 records held at once would take gigabytes.
        let (skip, take) = part(interviews);
        let records = demo_submissions::submissions(seed, &sites, start, days).skip(skip).take(take);
        stored += store_records(state, demo_submissions::FORM_ID, records, &admin, enumerator.as_ref()).await?;
        let (skip, take) = part(shifts);
        let records = demo_dtm::fmr_records(seed, &sites, start, days).skip(skip).take(take);
        stored += store_records(state, demo_dtm::FMR_FORM_ID, records, &admin, enumerator.as_ref()).await?;
        if total > 0 && tenths.start == 0 {
            let records = demo_dtm::generate_baseline(seed, i, start).into_iter();
            stored += store_records(state, demo_dtm::BASELINE_FORM_ID, records, &admin, enumerator.as_ref()).await?;
        }
    }
    Ok(stored)
}

/// Publishes the demo forms and indicators and fills them with about `total` submissions.
pub async fn seed(state: &AppState, total: usize) -> ApiResult<Seeded> {
    let indicators = publish(state).await?;
    let submissions = fill(state, total, 0..10).await?;
    Ok(Seeded { forms: 4, submissions, indicators })
}

/// Checks and stores demo records as an OpenRosa device would send them, in large batches.
async fn store_records(
    state: &AppState,
    form: &str,
    mut records: impl Iterator<Item = serde_json::Value>,
    admin: &User,
    enumerator: Option<&User>,
) -> ApiResult<usize> {
    let entry = state.collect.entry(form).await?;
    let mut stored = 0;
    loop {
        let chunk: Vec<serde_json::Value> = records.by_ref().take(1_000).collect();
        if chunk.is_empty() {
            break;
        }
        let mut batch = Vec::with_capacity(chunk.len());
        for record in &chunk {
            let (compiled, validated, xml) = state.collect.check_json(&entry, None, record).await?;
            // Colombian points are the demo enumerator's; the others the regional admin's.
            let in_colombia =
                super::record::answer(&validated.record, "country").and_then(|c| c.as_str()) == Some("COL");
            let submitter = match (enumerator, in_colombia) {
                (Some(e), true) => Submitter { user: Some(e.clone()), name: e.username.clone() },
                _ => Submitter { user: Some(admin.clone()), name: admin.username.clone() },
            };
            let envelope = Envelope { channel: Channel::OpenRosa, attachments: Vec::new(), complete: true };
            batch.push(state.collect.prepare(&entry, &compiled, validated, xml, &submitter, envelope).await?);
        }
        let actor = rumbo_store::model::Actor::system("demo");
        for outcome in state.store.ingest(&actor, &batch, state.analytics.contributor()).await {
            outcome?;
            stored += 1;
        }
    }
    state.analytics.changed();
    Ok(stored)
}

/// Keeps submissions arriving in the demo, as enumerators at several points would send
/// them: a survey interview every `every`, and a registry shift now and then, dated today,
/// through the same writer as any submission (so open dashboards move).
pub async fn trickle(state: AppState, every: std::time::Duration) {
    let Ok(admin) = user(&state, "admin").await else { return };
    let submitter = Submitter { user: Some(admin.clone()), name: admin.username.clone() };
    let sites = demo_submissions::demo_sites();
    let mut seed = Utc::now().timestamp().cast_unsigned();
    loop {
        tokio::time::sleep(every).await;
        seed = seed.wrapping_add(1);
        let today = Utc::now().date_naive();
        let (form, records) = if seed.is_multiple_of(4) {
            (demo_dtm::FMR_FORM_ID, demo_dtm::generate_fmr(1, seed, &sites, today, 1))
        } else {
            (demo_submissions::FORM_ID, demo_submissions::generate(1, seed, &sites, today, 1))
        };
        let Ok(entry) = state.collect.entry(form).await else { continue };
        for record in records {
            let stored = async {
                let (compiled, validated, xml) = state.collect.check_json(&entry, None, &record).await?;
                let envelope = Envelope { channel: Channel::Web, attachments: Vec::new(), complete: true };
                let new = state.collect.prepare(&entry, &compiled, validated, xml, &submitter, envelope).await?;
                state.collect.store(new).await
            };
            if let Err(e) = stored.await {
                tracing::warn!(error = %e, "a simulated demo submission was refused");
            }
        }
    }
}

async fn user(state: &AppState, username: &str) -> ApiResult<rumbo_store::model::User> {
    Ok(state
        .store
        .credentials(username)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("demo user {username}")))?
        .user)
}
