//! The collection part of `rumbo demo`: the flow-monitoring survey (an XLSForm in Spanish,
//! Portuguese and English) published for every demo country, a few thousand submissions
//! over the three rounds of 2026, and a short public form for the captive portal.

use chrono::NaiveDate;
use rumbo_domain::demo_submissions::{self, FLOW_MONITORING_FILE_NAME, FLOW_MONITORING_XLSX};
use rumbo_store::collection::{Channel, FormSettings};

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

/// The demo's rounds of 2026, with how many submissions each gets.
const ROUNDS: [(i32, u32, u32, u32, usize); 3] =
    [(2026, 1, 15, 60, 900), (2026, 5, 1, 60, 1000), (2026, 10, 1, 57, 1100)];

/// What the collection demo holds.
pub struct Seeded {
    pub forms: usize,
    pub submissions: usize,
}

/// Publishes the demo forms and fills the flow-monitoring survey with `total` submissions
/// (3,000 in `rumbo demo`) spread over the three rounds.
pub async fn seed(state: &AppState, total: usize) -> ApiResult<Seeded> {
    let admin = user(state, "admin").await?;
    let enumerator = user(state, "enumerator").await.ok();
    let countries: Vec<String> = rumbo_domain::demo::COUNTRIES.iter().map(|c| c.0.to_string()).collect();
    let caller = Caller { user: admin.clone(), csrf: None };
    let survey = super::ops::publish(
        state,
        &caller,
        FLOW_MONITORING_FILE_NAME,
        FLOW_MONITORING_XLSX.to_vec(),
        countries.clone(),
    )
    .await?;
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

    let entry = state.collect.entry(&survey.form.xml_form_id).await?;
    let sites = demo_submissions::demo_sites();
    let mut stored = 0;
    for (i, (year, month, day, days, count)) in ROUNDS.into_iter().enumerate() {
        let start =
            NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| ApiError::Internal("bad round date".into()))?;
        let count = count * total / 3000;
        let records = demo_submissions::generate(count, 20_261_127 + i as u64, &sites, start, days);
        let mut batch = Vec::with_capacity(records.len());
        for record in records {
            let (compiled, validated, xml) = state.collect.check_json(&entry, None, &record).await?;
            // Colombian points are the demo enumerator's; the others the regional admin's.
            let in_colombia =
                super::record::answer(&validated.record, "country").and_then(|c| c.as_str()) == Some("COL");
            let submitter = match (&enumerator, in_colombia) {
                (Some(e), true) => Submitter { user: Some(e.clone()), name: e.username.clone() },
                _ => Submitter { user: Some(admin.clone()), name: admin.username.clone() },
            };
            let envelope = Envelope { channel: Channel::OpenRosa, attachments: Vec::new(), complete: true };
            batch.push(state.collect.prepare(&entry, &compiled, validated, xml, &submitter, envelope).await?);
        }
        for chunk in batch.chunks(500) {
            for outcome in state
                .store
                .ingest(&rumbo_store::model::Actor::system("demo"), chunk, state.analytics.contributor())
                .await
            {
                outcome?;
                stored += 1;
            }
        }
    }
    Ok(Seeded { forms: 2, submissions: stored })
}

async fn user(state: &AppState, username: &str) -> ApiResult<rumbo_store::model::User> {
    Ok(state
        .store
        .credentials(username)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("demo user {username}")))?
        .user)
}
