//! The feedback part of `rumbo demo`: about three hundred items over the last six months,
//! most in Colombia (where the demo caseworker and focal point work), of every category,
//! channel and state, a few allegations, some past their deadline. Texts are generic; no
//! name or phone number of a real-looking person appears, and contacts are sealed anyway.

use chrono::{Duration, Utc};
use rumbo_store::feedback::{self as fb, FeedbackSeed, NewFeedback};
use rumbo_store::model::{Actor, ListFilter};

use super::{context, may_take, new_reference};
use crate::AppState;
use crate::error::ApiResult;

/// How many items the demo holds.
pub const ITEMS: usize = 300;

/// What people say, by category (Spanish, as most of the demo region writes).
fn message(category: &str, n: u64) -> &'static str {
    let pick = |texts: &[&'static str]| texts[usize::try_from(n).unwrap_or(0) % texts.len()];
    match category {
        "information_request" => pick(&[
            "¿Dónde puedo renovar el permiso de permanencia y qué documentos necesito?",
            "¿A qué hora abre el punto de atención y atienden los fines de semana?",
            "¿Cómo me inscribo para la próxima entrega de asistencia en efectivo?",
            "Quisiera saber si hay cupo en el albergue para una familia de cinco.",
        ]),
        "complaint" => pick(&[
            "La fila para la entrega de alimentos fue de más de seis horas y no había sombra ni agua.",
            "El kit de higiene llegó incompleto: faltaban toallas sanitarias.",
            "En el albergue no hay luz en los baños por la noche y no nos sentimos seguras.",
            "Me dijeron que volviera tres veces y todavía no me atienden.",
        ]),
        "suggestion" => pick(&[
            "Sería bueno tener un espacio para niños mientras esperamos en la fila.",
            "Pongan la información también en portugués y en lenguas indígenas.",
            "Podrían avisar por mensaje de texto cuando cambian las fechas de entrega.",
        ]),
        "thanks" => pick(&[
            "Gracias al equipo de salud por atender a mi hija tan rápido.",
            "Muy agradecidos por la orientación legal, ya tenemos cita.",
            "El personal del punto fue muy amable con mi madre.",
        ]),
        "fraud" => pick(&[
            "Una persona cobra dinero por inscribir a la gente en la lista de asistencia.",
            "Vendieron en la calle los colchones que entregaron en el albergue.",
        ]),
        _ => pick(&[
            "Quiero denunciar de forma confidencial una conducta de un trabajador de una organización.",
            "Una persona que dice trabajar para la ayuda pidió algo a cambio de la entrega.",
        ]),
    }
}

const ANSWERS: &[&str] = &[
    "Le explicamos los pasos y los documentos; puede acercarse de lunes a viernes de 8 a 16 h.",
    "Revisamos el caso con el equipo responsable y se corrigió para la próxima entrega.",
    "Gracias por avisarnos; trasladamos su sugerencia a la coordinación del sector.",
    "Se abrió una investigación confidencial y se tomaron medidas de protección.",
];

/// A small deterministic generator (the demo is the same every time).
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Fills the demo's feedback; the number of items stored.
pub async fn fill(state: &AppState) -> ApiResult<usize> {
    let countries = state.store.list_countries().await?;
    if countries.is_empty() {
        return Ok(0);
    }
    let sites = state.store.list_sites(&ListFilter { limit: Some(100_000), ..ListFilter::default() }).await?.items;
    let users = state.store.list_users(&ListFilter { limit: Some(100_000), ..ListFilter::default() }).await?.items;
    let sealer = &state.protection.sealer;
    let now = Utc::now();
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let mut seeds = Vec::with_capacity(ITEMS);
    // Weights of categories: questions and complaints dominate, allegations are rare.
    let categories =
        [("information_request", 35), ("complaint", 28), ("suggestion", 14), ("thanks", 13), ("fraud", 6), ("psea", 4)];
    let total_weight: usize = categories.iter().map(|(_, w)| w).sum();
    for n in 0..ITEMS {
        let mut roll = draw.below(total_weight);
        let category = categories
            .iter()
            .find(|(_, w)| {
                if roll < *w {
                    true
                } else {
                    roll -= w;
                    false
                }
            })
            .map_or("information_request", |(c, _)| *c);
        // Six in ten in Colombia, the rest anywhere.
        let country = if draw.below(10) < 6 {
            countries.iter().find(|c| c.code == "COL").unwrap_or(&countries[0])
        } else {
            &countries[draw.below(countries.len())]
        };
        let in_country: Vec<_> = sites.iter().filter(|s| s.country_code == country.code).collect();
        let site_id =
            (!in_country.is_empty() && draw.below(4) > 0).then(|| in_country[draw.below(in_country.len())].id);
        let channel = fb::CHANNELS[draw.below(fb::CHANNELS.len())];
        let sector = fb::SECTORS[draw.below(fb::SECTORS.len())];
        let age_hours = i64::try_from(draw.below(180 * 24)).unwrap_or(0);
        let created_at = now - Duration::hours(age_hours);
        let reference = new_reference();
        let wants_reply = draw.below(3) > 0;
        let contact = wants_reply.then(|| format!("demo-contact-{n:04}@example.org"));
        let text = message(category, draw.next());
        let handlers: Vec<_> = users.iter().filter(|u| may_take(u, &country.code, category == fb::PSEA)).collect();
        let staff = (!handlers.is_empty()).then(|| handlers[draw.below(handlers.len())].id);
        // Older items are further along; a few are left waiting past their deadline.
        let days = age_hours / 24;
        let deadline = fb::days_to_respond(category);
        let stage = match (staff, days) {
            (None, _) => 0,
            (_, d) if d < 2 => draw.below(2),
            (_, d) if d <= deadline => 1 + draw.below(2),
            _ => [0, 1, 2, 3, 3, 3, 3, 2][draw.below(8)],
        };
        let assigned_at = (stage >= 1)
            .then(|| (created_at + Duration::hours(2 + i64::try_from(draw.below(20)).unwrap_or(0))).min(now));
        // One answer in five comes after the deadline: late by up to five days.
        let late = draw.below(5) == 0;
        let responded_at = (stage >= 2).then(|| {
            let mut hours =
                |days: i64| i64::try_from(draw.below(usize::try_from(days * 24).unwrap_or(24))).unwrap_or(0);
            if late {
                created_at + Duration::days(deadline + 1) + Duration::hours(hours(4))
            } else {
                created_at + Duration::hours(2 + hours(deadline).min(deadline * 24 - 4))
            }
        });
        let responded_at = responded_at.map(|r| r.min(now));
        let closed_at = (stage >= 3).then(|| responded_at.unwrap_or(now) + Duration::hours(24)).map(|c| c.min(now));
        seeds.push(FeedbackSeed {
            item: NewFeedback {
                body: sealer.seal(&context(&reference, "body"), text),
                contact: contact.map(|c| sealer.seal(&context(&reference, "contact"), &c)),
                channel: if staff.is_none() { "web" } else { channel }.to_string(),
                created_by: staff.filter(|_| channel != "web"),
                category: category.to_string(),
                sector: sector.to_string(),
                country_code: country.code.clone(),
                site_id,
                wants_reply,
                created_at,
                reference: reference.clone(),
            },
            status: ["new", "assigned", "responded", "closed"][stage].to_string(),
            assigned_to: staff.filter(|_| stage >= 1),
            assigned_at,
            response: (stage >= 2)
                .then(|| sealer.seal(&context(&reference, "response"), ANSWERS[draw.below(ANSWERS.len())])),
            responded_by: staff.filter(|_| stage >= 2),
            responded_at,
            closed_at,
            loop_closed: draw.below(6) > 0,
            satisfaction: (stage >= 3 && draw.below(4) > 0).then(|| i32::try_from(1 + draw.below(5)).unwrap_or(3)),
        });
    }
    Ok(state.store.import_feedback(&Actor::system("demo"), &seeds).await?)
}
