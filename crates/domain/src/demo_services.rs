//! The demo's service directory: in every country of the demo, services of the eight
//! sectors in two or three cities near its flow-monitoring points and its capital, by the
//! demo's organisations. Names, eligibility and hours are in the country's language.
//! Contacts are made up (marked "demo"). A GBV safe house per country is not public, and a
//! few livelihoods services are deactivated, as in a real directory.

use rumbo_store::model::{Actor, ListFilter, Site};
use rumbo_store::services::{Sector, ServiceInput, distance_km};
use rumbo_store::{Store, StoreError};

use crate::boundaries::AreaIndex;

/// The language of a country's services.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Language {
    Es,
    Pt,
    En,
}

/// Country, dialling code, language, the languages spoken at its services, and its cities
/// (name, latitude, longitude).
type DemoCountry = (&'static str, &'static str, Language, &'static str, &'static [(&'static str, f64, f64)]);

const COUNTRIES: &[DemoCountry] = &[
    (
        "COL",
        "+57",
        Language::Es,
        "Español",
        &[("Cúcuta", 7.8939, -72.5078), ("Bogotá", 4.6097, -74.0817), ("Maicao", 11.3779, -72.2395)],
    ),
    (
        "VEN",
        "+58",
        Language::Es,
        "Español",
        &[("San Antonio del Táchira", 7.8145, -72.4431), ("Caracas", 10.4806, -66.9036)],
    ),
    ("ECU", "+593", Language::Es, "Español", &[("Quito", -0.1807, -78.4678), ("Tulcán", 0.8118, -77.7173)]),
    ("PER", "+51", Language::Es, "Español", &[("Lima", -12.0464, -77.0428), ("Tumbes", -3.5669, -80.4515)]),
    (
        "BOL",
        "+591",
        Language::Es,
        "Español, aymara",
        &[("La Paz", -16.4897, -68.1193), ("Desaguadero", -16.5660, -69.0410)],
    ),
    ("CHL", "+56", Language::Es, "Español, kreyòl", &[("Santiago", -33.4489, -70.6693), ("Arica", -18.4783, -70.3126)]),
    (
        "BRA",
        "+55",
        Language::Pt,
        "Português, Español, warao",
        &[("Boa Vista", 2.8235, -60.6758), ("Pacaraima", 4.4797, -61.1477), ("Manaus", -3.1190, -60.0217)],
    ),
    (
        "PAN",
        "+507",
        Language::Es,
        "Español, English",
        &[("Ciudad de Panamá", 8.9824, -79.5199), ("Metetí", 8.4986, -77.9777)],
    ),
    ("CRI", "+506", Language::Es, "Español", &[("San José", 9.9281, -84.0907), ("Paso Canoas", 8.5340, -82.8390)]),
    (
        "MEX",
        "+52",
        Language::Es,
        "Español, kreyòl",
        &[("Tapachula", 14.9060, -92.2630), ("Ciudad de México", 19.4326, -99.1332)],
    ),
    ("ARG", "+54", Language::Es, "Español", &[("Buenos Aires", -34.6037, -58.3816), ("La Quiaca", -22.1056, -65.5928)]),
    (
        "URY",
        "+598",
        Language::Es,
        "Español, Português",
        &[("Montevideo", -34.9011, -56.1645), ("Rivera", -30.9053, -55.5508)],
    ),
    (
        "PRY",
        "+595",
        Language::Es,
        "Español, guaraní",
        &[("Asunción", -25.2637, -57.5759), ("Ciudad del Este", -25.5097, -54.6111)],
    ),
    (
        "DOM",
        "+1",
        Language::Es,
        "Español",
        &[("Santo Domingo", 18.4861, -69.9312), ("Santiago de los Caballeros", 19.4792, -70.6931)],
    ),
    (
        "TTO",
        "+1",
        Language::En,
        "English, Español",
        &[("Port of Spain", 10.6596, -61.5089), ("San Fernando", 10.2796, -61.4589)],
    ),
    (
        "GUY",
        "+592",
        Language::En,
        "English, Español",
        &[("Georgetown", 6.8013, -58.1551), ("Lethem", 3.3803, -59.7968)],
    ),
    (
        "ABW",
        "+297",
        Language::Es,
        "Papiamento, Español, English, Nederlands",
        &[("Oranjestad", 12.5240, -70.0270), ("San Nicolas", 12.4333, -69.9167)],
    ),
    (
        "CUW",
        "+599",
        Language::Es,
        "Papiamentu, Español, English, Nederlands",
        &[("Willemstad", 12.1091, -68.9316), ("Barber", 12.2960, -69.0940)],
    ),
];

/// Texts in Spanish, Portuguese and English.
type Texts = [&'static str; 3];

/// A kind of service: sector, name, the organisations that run it (by acronym, the first
/// that fits the country), who may use it and when it is open.
struct Kind {
    sector: Sector,
    name: Texts,
    organisations: &'static [&'static str],
    eligibility: Texts,
    hours: Texts,
}

const WEEKDAYS: Texts = ["Lunes a viernes, 8:00–17:00", "Segunda a sexta, 8h–17h", "Monday to Friday, 8:00–17:00"];

const KINDS: &[Kind] = &[
    Kind {
        sector: Sector::Health,
        name: ["Punto de atención en salud", "Posto de atendimento em saúde", "Health point"],
        organisations: &["CRC", "IOM"],
        eligibility: [
            "Toda persona migrante o refugiada, sin importar su situación migratoria. No se pide documento.",
            "Toda pessoa migrante ou refugiada, qualquer que seja sua situação migratória. Nenhum documento é pedido.",
            "Any migrant or refugee, whatever their status. No document needed.",
        ],
        hours: ["Lunes a sábado, 7:00–19:00", "Segunda a sábado, 7h–19h", "Monday to Saturday, 7:00–19:00"],
    },
    Kind {
        sector: Sector::Mhpss,
        name: ["Apoyo psicosocial", "Apoio psicossocial", "Psychosocial support"],
        organisations: &["Halü", "HIAS"],
        eligibility: [
            "Personas adultas; niñas, niños y adolescentes con su cuidador. Individual o en grupo.",
            "Pessoas adultas; crianças e adolescentes com seu cuidador. Individual ou em grupo.",
            "Adults; children and adolescents with their caregiver. One-to-one or in groups.",
        ],
        hours: WEEKDAYS,
    },
    Kind {
        sector: Sector::Shelter,
        name: ["Albergue temporal", "Abrigo temporário", "Temporary shelter"],
        organisations: &["UNHCR", "IOM"],
        eligibility: [
            "Familias y personas en tránsito o recién llegadas; hasta 7 noches. Prioridad a familias con niñas y niños.",
            "Famílias e pessoas em trânsito ou recém-chegadas; até 7 noites. Prioridade a famílias com crianças.",
            "Families and people in transit or newly arrived; up to 7 nights. Families with children first.",
        ],
        hours: [
            "Ingreso de 14:00 a 20:00, todos los días",
            "Entrada das 14h às 20h, todos os dias",
            "Check-in 14:00–20:00, every day",
        ],
    },
    Kind {
        sector: Sector::Legal,
        name: [
            "Orientación legal y regularización",
            "Orientação jurídica e regularização",
            "Legal advice and regularisation",
        ],
        organisations: &["NRC", "HIAS"],
        eligibility: [
            "Personas refugiadas, solicitantes de asilo y migrantes. Gratuito y confidencial.",
            "Pessoas refugiadas, solicitantes de refúgio e migrantes. Gratuito e confidencial.",
            "Refugees, asylum seekers and migrants. Free and confidential.",
        ],
        hours: WEEKDAYS,
    },
    Kind {
        sector: Sector::Cash,
        name: ["Asistencia en efectivo", "Assistência em dinheiro", "Cash assistance"],
        organisations: &["WFP", "UNHCR"],
        eligibility: [
            "Hogares en situación de vulnerabilidad, previa evaluación; con cita.",
            "Famílias em situação de vulnerabilidade, após avaliação; com agendamento.",
            "Households in a vulnerable situation, after an assessment; by appointment.",
        ],
        hours: ["Martes y jueves, 9:00–15:00", "Terça e quinta, 9h–15h", "Tuesday and Thursday, 9:00–15:00"],
    },
    Kind {
        sector: Sector::ChildProtection,
        name: ["Espacio amigable para la niñez", "Espaço amigável para crianças", "Child-friendly space"],
        organisations: &["UNICEF", "SC"],
        eligibility: [
            "Niñas, niños y adolescentes de 0 a 17 años, acompañados o no acompañados.",
            "Crianças e adolescentes de 0 a 17 anos, acompanhados ou desacompanhados.",
            "Children and adolescents aged 0 to 17, accompanied or not.",
        ],
        hours: ["Lunes a sábado, 8:00–16:00", "Segunda a sábado, 8h–16h", "Monday to Saturday, 8:00–16:00"],
    },
    Kind {
        sector: Sector::Gbv,
        name: [
            "Atención a sobrevivientes de violencia basada en género",
            "Atendimento a sobreviventes de violência baseada em gênero",
            "Support for survivors of gender-based violence",
        ],
        organisations: &["UNHCR", "HIAS"],
        eligibility: [
            "Mujeres, niñas y toda persona sobreviviente. Confidencial; no se pide documento.",
            "Mulheres, meninas e toda pessoa sobrevivente. Confidencial; nenhum documento é pedido.",
            "Women, girls and every survivor. Confidential; no document needed.",
        ],
        hours: [
            "Línea 24 horas; atención presencial lunes a sábado, 8:00–18:00",
            "Linha 24 horas; atendimento presencial de segunda a sábado, 8h–18h",
            "24-hour line; walk-in Monday to Saturday, 8:00–18:00",
        ],
    },
    Kind {
        sector: Sector::Livelihoods,
        name: ["Empleo y emprendimiento", "Emprego e empreendedorismo", "Jobs and small business"],
        organisations: &["DRC", "IOM"],
        eligibility: [
            "Personas adultas con permiso de trabajo o en trámite.",
            "Pessoas adultas com autorização de trabalho ou em processo.",
            "Adults with a work permit, or applying for one.",
        ],
        hours: WEEKDAYS,
    },
];

/// Sectors that get a second service, by another organisation, in each country's first city
/// (referrals in the demo send cases to these).
const CORE: &[Sector] = &[Sector::Health, Sector::Shelter, Sector::Legal, Sector::ChildProtection, Sector::Gbv];

/// Organisations whose presence the demo places in one country only.
const NATIONAL: &[(&str, &str)] = &[("CRC", "COL"), ("Halü", "COL")];

fn text(texts: &Texts, language: Language) -> &'static str {
    match language {
        Language::Es => texts[0],
        Language::Pt => texts[1],
        Language::En => texts[2],
    }
}

/// Adds the demo's services; returns how many.
pub async fn load(store: &Store, actor: &Actor) -> Result<usize, StoreError> {
    let everything = ListFilter { limit: Some(100_000), ..Default::default() };
    let organisations: Vec<(String, i64)> =
        store.list_organisations(&everything).await?.items.into_iter().map(|o| (o.acronym, o.id)).collect();
    let organisation = |acronym: &str| organisations.iter().find(|(a, _)| a == acronym).map(|(_, id)| *id);
    let mut count = 0;
    for (country, dialling, language, languages, cities) in COUNTRIES {
        let areas = AreaIndex::new(&store.area_shapes(country, 1).await?);
        let sites =
            store.list_sites(&ListFilter { country: Some((*country).into()), ..everything.clone() }).await?.items;
        for (city_index, (city, lat, lon)) in cities.iter().enumerate() {
            for (kind_index, kind) in KINDS.iter().enumerate() {
                let second = city_index == 0 && CORE.contains(&kind.sector);
                let runs: &[usize] = if second { &[0, 1] } else { &[0] };
                for &run in runs {
                    // The organisations that fit this country, taken in turn.
                    let mut fitting: Vec<&str> = Vec::new();
                    for a in kind.organisations.iter().copied().chain(["IOM", "UNHCR"]) {
                        if NATIONAL.iter().all(|(org, only)| *org != a || only == country) && !fitting.contains(&a) {
                            fitting.push(a);
                        }
                    }
                    let acronym = fitting[(city_index + run) % fitting.len()];
                    let Some(organisation_id) = organisation(acronym) else { continue };
                    let n = count + 1;
                    // Spread the services around the city centre, a few hundred metres apart.
                    let step = (kind_index * 2 + run) as f64;
                    let latitude = lat + 0.004 * (step - 8.0) / 2.0;
                    let longitude = lon + 0.003 * (((kind_index * 5 + run * 3) % 11) as f64 - 5.0);
                    let confidential = kind.sector == Sector::Gbv && city_index == 1;
                    let closed = kind.sector == Sector::Livelihoods
                        && city_index == 1
                        && ["ARG", "URY", "PRY"].contains(country);
                    let name = if confidential {
                        match language {
                            Language::Es => format!("Casa refugio para mujeres – {city} (ubicación confidencial)"),
                            Language::Pt => format!("Casa-abrigo para mulheres – {city} (endereço confidencial)"),
                            Language::En => format!("Safe house for women – {city} (confidential location)"),
                        }
                    } else {
                        format!("{} {acronym} – {city}", text(&kind.name, *language))
                    };
                    let street = match language {
                        Language::Es => format!("Calle {} # {}-{}, {city}", 3 + kind_index * 2, 10 + run, 20 + n % 70),
                        Language::Pt => format!(
                            "Rua {}, {}, {city}",
                            ["das Flores", "Sete de Setembro", "do Rio Branco", "Amazonas"][kind_index % 4],
                            100 + n
                        ),
                        Language::En => format!(
                            "{} {} Street, {city}",
                            10 + n % 80,
                            ["Frederick", "Queen", "Charlotte", "Main"][kind_index % 4]
                        ),
                    };
                    let site_id = sites
                        .iter()
                        .filter(|s: &&Site| distance_km(s.latitude, s.longitude, latitude, longitude) < 5.0)
                        .min_by(|a, b| {
                            distance_km(a.latitude, a.longitude, latitude, longitude).total_cmp(&distance_km(
                                b.latitude,
                                b.longitude,
                                latitude,
                                longitude,
                            ))
                        })
                        .map(|s| s.id);
                    let input = ServiceInput {
                        organisation_id,
                        name,
                        sector: kind.sector,
                        country_code: (*country).into(),
                        admin1_pcode: areas.locate(longitude, latitude).map(str::to_string),
                        site_id,
                        latitude: Some(latitude),
                        longitude: Some(longitude),
                        address: if confidential { String::new() } else { street },
                        eligibility: text(&kind.eligibility, *language).into(),
                        contact: format!("WhatsApp {dialling} 555 {:04} (demo)", 1000 + n),
                        hours: text(&kind.hours, *language).into(),
                        languages: (*languages).into(),
                        public: !confidential,
                        active: !closed,
                    };
                    store.create_service(actor, &input).await?;
                    count += 1;
                }
            }
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::{CORE, COUNTRIES, KINDS};

    #[test]
    fn every_country_has_every_sector_and_the_referral_sectors_twice() {
        for (country, _, _, _, cities) in COUNTRIES {
            assert!(cities.len() >= 2, "{country}");
        }
        assert_eq!(KINDS.len(), 8);
        assert_eq!(CORE.len(), 5);
    }
}
