//! The demo's protection work: red-flag rules on the flow-monitoring survey (so the alert
//! inbox fills as the demo's submissions arrive), and a Colombian caseload with consent,
//! case files and referrals to the directory's services in every state.

use chrono::{Duration, NaiveDate, Utc};
use rumbo_domain::demo_submissions::FORM_ID;
use rumbo_domain::secrets::hash_password;
use rumbo_store::model::{Actor, ListFilter, Role, User, UserInput};
use rumbo_store::protection::{AlertFilter, FlagRuleInput, NewReferral};
use rumbo_store::services::{Sector, ServiceFilter};

use super::cases::{self, CaseInput, ConsentInput, EntryInput, Identity, ProfileInput};
use super::{flags, referrals};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// Red flags of the demo: expression, severity, messages (en, es, pt).
pub(crate) const RULES: &[(&str, &str, &str, [&str; 3])] = &[
    (
        "Children travelling alone",
        "${uasc_seen} = 'yes' and ${uasc_count} >= 5",
        "critical",
        [
            "A group of five or more unaccompanied or separated children seen at the point",
            "Un grupo de cinco o más niñas, niños o adolescentes no acompañados o separados en el punto",
            "Um grupo de cinco ou mais crianças desacompanhadas ou separadas visto no ponto",
        ],
    ),
    (
        "Pregnant woman without health care",
        "${pregnant_lactating} = 'yes' and selected(${needs}, 'health') and ${assistance} = 'no'",
        "high",
        [
            "Pregnant or lactating woman who needs health care and has received no assistance",
            "Mujer gestante o lactante que necesita atención en salud y no ha recibido asistencia",
            "Gestante ou lactante que precisa de atendimento de saúde e não recebeu assistência",
        ],
    ),
    (
        "Trafficking indicators",
        "${tr_documents_kept} = 'yes' and (${tr_unpaid_work} = 'yes' or ${tr_held} = 'yes')",
        "critical",
        [
            "Signs of trafficking: someone keeps their documents, and they worked without pay or were held",
            "Indicios de trata: alguien retiene sus documentos, y trabajó sin pago o fue retenida",
            "Indícios de tráfico: alguém retém seus documentos, e trabalhou sem pagamento ou foi retida",
        ],
    ),
];

/// Fictional people of the demo caseload (their identities are sealed like any other).
const PEOPLE: &[(&str, &str, &str)] = &[
    ("Daniela", "Rondón Salcedo", "female"),
    ("José Gregorio", "Pérez Villalba", "male"),
    ("Yohana", "Marcano Ortiz", "female"),
    ("Luis Ángel", "Quintero Bravo", "male"),
    ("Mariángel", "Colmenares Díaz", "female"),
    ("Keiber", "Arteaga Lugo", "male"),
    ("Rosa Virginia", "Tovar Medina", "female"),
    ("Wilmer", "Guevara Pacheco", "male"),
    ("Genesis", "Bolívar Rangel", "female"),
    ("Anyelo", "Carrillo Mora", "male"),
    ("Yusmary", "Fuentes Leal", "female"),
    ("Deivis", "Sánchez Urdaneta", "male"),
];

const VULNERABILITIES: &[&[&str]] = &[
    &["uasc"],
    &["vot"],
    &["gbv"],
    &["pregnant_lactating"],
    &["disability"],
    &["chronic_illness", "older_person"],
    &["gbv", "sogiesc"],
    &["vot", "gbv"],
];

/// Declares the demo's red-flag rules on the flow-monitoring survey (before its submissions
/// arrive, so every one of them is checked).
pub async fn rules(state: &AppState) -> ApiResult<usize> {
    let form =
        state.store.form_by_xml_id(FORM_ID).await?.ok_or_else(|| ApiError::NotFound(format!("form {FORM_ID}")))?;
    let actor = Actor::system("demo");
    for (name, expression, severity, [en, es, pt]) in RULES {
        let input = FlagRuleInput {
            form_id: form.id,
            name: (*name).into(),
            expression: (*expression).into(),
            severity: (*severity).into(),
            message_en: (*en).into(),
            message_es: (*es).into(),
            message_pt: (*pt).into(),
            route_country: None,
            route_site_id: None,
            active: true,
        };
        flags::check(state, &input).await?;
        state.store.save_flag_rule(&actor, None, &input).await?;
    }
    flags::reload(state).await?;
    Ok(RULES.len())
}

async fn user(state: &AppState, username: &str) -> ApiResult<User> {
    let id = state.store.user_id_by_username(username).await?;
    Ok(state.store.user(id).await?)
}

/// A Colombian caseload: cases (some opened from the alerts raised so far), consent, case
/// files, and referrals to services of other organisations in every state, a few overdue,
/// one whose person withdrew consent. The demo caseworker works for HIAS; a caseworker of
/// the receiving organisation (`caseworker_<acronym>`, same password) answers referrals.
pub async fn cases(state: &AppState, password: &str) -> ApiResult<(usize, Vec<String>)> {
    let actor = Actor::system("demo");
    let orgs = state.store.list_organisations(&ListFilter { limit: Some(1000), ..Default::default() }).await?.items;
    let org = |acronym: &str| orgs.iter().find(|o| o.acronym == acronym).map(|o| o.id);
    // The caseworker and the focal point work for HIAS.
    for username in ["caseworker", "protection_focal_point"] {
        let u = user(state, username).await?;
        let input = UserInput {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            organisation_id: org("HIAS"),
            all_countries: u.all_countries,
            countries: u.countries.clone(),
            active: true,
        };
        state.store.save_user(&actor, Some(u.id), &input, None).await?;
    }
    // Services of Colombia run by others, to refer to.
    let services: Vec<_> = state
        .store
        .search_services(&ServiceFilter {
            country: Some("COL".into()),
            active: Some(true),
            sectors: vec![
                Sector::ChildProtection,
                Sector::Gbv,
                Sector::Health,
                Sector::Legal,
                Sector::Mhpss,
                Sector::Shelter,
            ],
            limit: Some(200),
            ..ServiceFilter::default()
        })
        .await?
        .items
        .into_iter()
        .filter(|s| Some(s.organisation_id) != org("HIAS"))
        .collect();
    let Some(main) = services.first().cloned() else { return Ok((0, Vec::new())) };
    // A caseworker for each receiving organisation.
    let hash = hash_password(password);
    let mut receivers = std::collections::BTreeMap::new();
    for s in &services {
        if receivers.contains_key(&s.organisation_id) {
            continue;
        }
        let username = format!(
            "caseworker_{}",
            s.organisation_acronym.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "")
        );
        let saved = state
            .store
            .save_user(
                &actor,
                None,
                &UserInput {
                    username: username.clone(),
                    display_name: format!("Caseworker, {} Colombia", s.organisation_acronym),
                    role: Role::Caseworker,
                    organisation_id: Some(s.organisation_id),
                    all_countries: false,
                    countries: vec!["COL".into()],
                    active: true,
                },
                Some(&hash),
            )
            .await?;
        receivers.insert(s.organisation_id, saved);
    }
    let caseworker = Caller { user: user(state, "caseworker").await?, csrf: None };
    let alerts = state
        .store
        .list_alerts(&AlertFilter { country: Some("COL".into()), limit: Some(6), ..AlertFilter::default() })
        .await?
        .items;
    let today = Utc::now().date_naive();
    let mut opened = 0;
    for (i, (given, family, sex)) in PEOPLE.iter().enumerate() {
        let vulnerabilities: Vec<String> =
            VULNERABILITIES[i % VULNERABILITIES.len()].iter().map(|v| (*v).to_string()).collect();
        let child = vulnerabilities.iter().any(|v| v == "uasc");
        let mut purposes = vec!["case_management", "referral", "share_contact", "share_vulnerabilities"];
        if i % 3 != 0 {
            purposes.push("share_identity");
        }
        if i % 2 == 0 {
            purposes.push("share_assessment");
        }
        let input = CaseInput {
            country: "COL".into(),
            alert_id: alerts.get(i).map(|a| a.id),
            caseworker_id: None,
            profile: ProfileInput {
                risk: ["high", "medium", "low"][i % 3].into(),
                sex: (*sex).into(),
                age_group: if child { "12_17".into() } else { ["18_59", "18_59", "60_plus"][i % 3].into() },
                nationality: "VEN".into(),
                vulnerabilities,
                identity: Identity {
                    given_name: (*given).into(),
                    family_name: (*family).into(),
                    date_of_birth: format!("{}-0{}-1{}", if child { 2010 } else { 1985 + i }, 1 + i % 9, i % 10),
                    document: format!("V-{}", 18_000_000 + i * 377_113),
                    phone: format!("+57 3{:02} 555 {:04}", 10 + i, 1000 + i * 7),
                    address: format!("Barrio La Parada, casa {}", 10 + i),
                },
            },
            consent: ConsentInput {
                purposes: purposes.iter().map(|p| (*p).to_string()).collect(),
                method: if child { "guardian".into() } else { "verbal".into() },
                given_on: today - Duration::days(40 - i as i64),
            },
        };
        let case = cases::open(state, &caseworker, &input).await?;
        let code = case.case.code.clone();
        opened += 1;
        let entry = |kind: &str, text: &str, due_on: Option<NaiveDate>, reason: Option<&str>| EntryInput {
            kind: kind.into(),
            text: text.into(),
            due_on,
            reason: reason.map(str::to_owned),
        };
        cases::add_entry(
            state,
            &caseworker,
            &code,
            &entry(
                "assessment",
                "Initial assessment: needs documented in the interview; safety plan agreed.",
                None,
                None,
            ),
        )
        .await?;
        cases::add_entry(
            state,
            &caseworker,
            &code,
            &entry(
                "service_plan",
                "Accompany to the referred service and check documentation.",
                Some(today + Duration::days(7)),
                None,
            ),
        )
        .await?;
        // Some follow-ups are late.
        let due = if i % 4 == 0 { today - Duration::days(3) } else { today + Duration::days(14) };
        cases::add_entry(state, &caseworker, &code, &entry("follow_up", "Phone follow-up.", Some(due), None)).await?;
        let service = &services[i % services.len()];
        let share: Vec<String> = ["contact", "vulnerabilities"].iter().map(|p| (*p).to_string()).collect();
        let referral_input = referrals::ReferralInput {
            service_id: service.id,
            urgency: if i % 5 == 0 { "urgent".into() } else { "normal".into() },
            note: "Referred after the initial assessment.".into(),
            share,
        };
        let sent = referrals::send(state, &caseworker, &code, &referral_input).await?;
        let receiver = Caller { user: receivers[&service.organisation_id].clone(), csrf: None };
        let rcode = sent.referral.code.clone();
        // Referrals in every state.
        match i % 6 {
            0 => {}
            1 => {
                referrals::step(state, &receiver, &rcode, "accept", "Appointment booked.").await?;
            }
            2 => {
                referrals::step(state, &receiver, &rcode, "decline", "Outside our eligibility criteria.").await?;
            }
            3 => {
                referrals::step(state, &receiver, &rcode, "accept", "").await?;
                referrals::step(state, &receiver, &rcode, "provide", "Service provided.").await?;
            }
            4 => {
                referrals::step(state, &receiver, &rcode, "accept", "").await?;
                referrals::step(state, &receiver, &rcode, "provide", "").await?;
                referrals::step(state, &caseworker, &rcode, "close", "The person confirmed the service.").await?;
                cases::add_entry(
                    state,
                    &caseworker,
                    &code,
                    &entry("closure", "Goals of the plan met.", None, Some("goals_met")),
                )
                .await?;
            }
            _ => {
                // An overdue referral: sent a week ago, never answered.
                let case = state.store.case_by_code(&code).await?.ok_or_else(|| ApiError::NotFound(code.clone()))?;
                let late = NewReferral {
                    code: format!("{rcode}-B"),
                    case_id: case.id,
                    from_org_id: caseworker.user.organisation_id,
                    service_id: main.id,
                    urgency: "urgent".into(),
                    shared: "contact".into(),
                    note: state
                        .protection
                        .sealer
                        .seal(&format!("referral:{rcode}-B/note"), "Urgent: please call her today."),
                    respond_by: Utc::now() - Duration::days(6),
                };
                state.store.send_referral(&caseworker.actor(), &late).await?;
            }
        }
    }
    // One person withdrew consent: nothing more is shared with the receivers.
    let withdrawn = state
        .store
        .list_cases(&rumbo_store::protection::CaseFilter { country: Some("COL".into()), ..Default::default() })
        .await?
        .items;
    if let Some(case) = withdrawn.iter().find(|c| c.status == "open") {
        cases::withdraw(state, &caseworker, &case.code, "Asked that no more information be shared").await?;
    }
    state.analytics.flags().changed();
    Ok((opened, receivers.into_values().map(|u| u.username).collect()))
}
