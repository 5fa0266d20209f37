//! The 5W part of `rumbo demo`: a regional plan, the partner organisations and a year of
//! monthly activity reports, with a few deliberate errors for the reviewer to catch.
//!
//! * Plans for 2025 and 2026: the RMRP sectors, 2–3 indicators each (people, and a few
//!   other units), targets per country and sector for the 17 host countries, split over
//!   their main admin-1 areas in Colombia, Peru, Ecuador, Brazil and Chile (orders of
//!   magnitude of the public RMRP figures). Saved with the store call a plan upload uses.
//! * 230 organisations (the 11 of the general demo and 219 more: UN agencies,
//!   international NGOs, Red Cross societies, national NGOs), each working in a few
//!   countries and sectors.
//! * Report rows for every month of 2025 and of 2026 up to the month before today, checked
//!   by the same [`Checker`] as an upload and flagged by the same
//!   [`reports::raise_flags`], with the day each organisation sent its month (so late
//!   reports are late as of then, not as of the demo's start). All months are approved but
//!   the last two, which await review, as uploads of each organisation; they hold outliers,
//!   re-sent (duplicate) rows, late reports, two returned rows (one of them the demo partner
//!   reporter's) and two refused uploads.
//!
//! Reached figures stay between about a fifth and nine tenths of the targets: each target
//! is split between one or two partners, who reach new people over the months.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use rumbo_store::model::{Actor, ListFilter, OrganisationInput, OrganisationKind, User};
use rumbo_store::response::{
    NewActivityReport, NewUpload, PastFigure, Plan, PlanIndicator, PlanInput, PlanSector, PlanTarget, ReportKey,
};

use super::plan::DEFAULT_SECTORS;
use super::reports::{self, Checker, ReportInput};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// The plan years of the demo.
pub const YEARS: [i32; 2] = [2025, 2026];
/// Organisations in all once the demo is filled.
pub const ORGANISATIONS: usize = 230;
/// Report rows a year, unless asked otherwise (`RUMBO_DEMO_5W_ROWS`).
pub const DEFAULT_ROWS_PER_YEAR: usize = 32_000;
/// Reports for a month are due by this day of the following month.
const DEADLINE_DAY: i32 = 10;

/// What the 5W demo made.
#[derive(Debug, Default)]
pub struct Summary {
    pub organisations: usize,
    pub plans: Vec<i32>,
    pub targets: usize,
    pub rows: usize,
    /// Rows submitted and not yet reviewed.
    pub awaiting_review: usize,
    /// Of which flagged (late, duplicate or outlier).
    pub flagged: usize,
    pub returned: usize,
    pub refused_uploads: usize,
}

/// Indicators: code, sector, names (en, es, pt), unit, and for other units how many people
/// one unit stands for (kits per person reached…; 0: a count of its own).
type IndicatorRow = (&'static str, &'static str, [&'static str; 3], &'static str, f64);

const INDICATORS: &[IndicatorRow] = &[
    (
        "EDU-1",
        "EDU",
        [
            "Children and adolescents enrolled in formal education",
            "Niñas, niños y adolescentes matriculados en educación formal",
            "Crianças e adolescentes matriculados na educação formal",
        ],
        "people",
        0.0,
    ),
    (
        "EDU-2",
        "EDU",
        [
            "Children receiving school kits or learning support",
            "Niñas y niños que reciben kits escolares o apoyo pedagógico",
            "Crianças que recebem kits escolares ou apoio pedagógico",
        ],
        "people",
        0.0,
    ),
    (
        "EDU-3",
        "EDU",
        [
            "Learning spaces rehabilitated or equipped",
            "Espacios educativos rehabilitados o equipados",
            "Espaços educativos reabilitados ou equipados",
        ],
        "spaces",
        0.0,
    ),
    (
        "FSC-1",
        "FSC",
        [
            "People receiving food assistance (in kind, cash or vouchers)",
            "Personas que reciben asistencia alimentaria (en especie, efectivo o cupones)",
            "Pessoas que recebem assistência alimentar (em espécie, dinheiro ou vales)",
        ],
        "people",
        0.0,
    ),
    (
        "FSC-2",
        "FSC",
        [
            "People receiving hot meals in community kitchens",
            "Personas que reciben comidas calientes en comedores comunitarios",
            "Pessoas que recebem refeições quentes em cozinhas comunitárias",
        ],
        "people",
        0.0,
    ),
    ("FSC-3", "FSC", ["Food distributed", "Alimentos distribuidos", "Alimentos distribuídos"], "tonnes", 60.0),
    (
        "HEA-1",
        "HEA",
        [
            "People receiving primary health care",
            "Personas que reciben atención primaria en salud",
            "Pessoas que recebem atenção primária à saúde",
        ],
        "people",
        0.0,
    ),
    (
        "HEA-2",
        "HEA",
        [
            "People receiving sexual and reproductive health services",
            "Personas que reciben servicios de salud sexual y reproductiva",
            "Pessoas que recebem serviços de saúde sexual e reprodutiva",
        ],
        "people",
        0.0,
    ),
    (
        "HEA-3",
        "HEA",
        [
            "People receiving mental health and psychosocial support",
            "Personas que reciben apoyo en salud mental y psicosocial",
            "Pessoas que recebem apoio em saúde mental e psicossocial",
        ],
        "people",
        0.0,
    ),
    (
        "HTR-1",
        "HTR",
        [
            "People receiving humanitarian transportation",
            "Personas que reciben transporte humanitario",
            "Pessoas que recebem transporte humanitário",
        ],
        "people",
        0.0,
    ),
    (
        "HTR-2",
        "HTR",
        ["Bus tickets provided", "Pasajes de bus entregados", "Passagens de ônibus fornecidas"],
        "tickets",
        1.1,
    ),
    (
        "INT-1",
        "INT",
        [
            "People supported to obtain regular status or documents",
            "Personas apoyadas para regularizarse u obtener documentos",
            "Pessoas apoiadas na regularização ou obtenção de documentos",
        ],
        "people",
        0.0,
    ),
    (
        "INT-2",
        "INT",
        [
            "People trained for employment or entrepreneurship",
            "Personas capacitadas para el empleo o el emprendimiento",
            "Pessoas capacitadas para emprego ou empreendedorismo",
        ],
        "people",
        0.0,
    ),
    (
        "INT-3",
        "INT",
        [
            "Seed-capital grants to small businesses",
            "Capitales semilla para emprendimientos",
            "Capital semente para pequenos negócios",
        ],
        "grants",
        25.0,
    ),
    (
        "NUT-1",
        "NUT",
        [
            "Children under five screened for acute malnutrition",
            "Niñas y niños menores de cinco años tamizados por desnutrición aguda",
            "Crianças menores de cinco anos triadas para desnutrição aguda",
        ],
        "people",
        0.0,
    ),
    (
        "NUT-2",
        "NUT",
        [
            "Pregnant and lactating women receiving nutrition counselling",
            "Mujeres gestantes y lactantes con consejería nutricional",
            "Gestantes e lactantes com aconselhamento nutricional",
        ],
        "people",
        0.0,
    ),
    (
        "PRO-1",
        "PRO",
        [
            "People receiving protection information and orientation",
            "Personas que reciben información y orientación en protección",
            "Pessoas que recebem informação e orientação em proteção",
        ],
        "people",
        0.0,
    ),
    (
        "PRO-2",
        "PRO",
        [
            "People receiving legal assistance or protection case management",
            "Personas que reciben asistencia legal o gestión de casos de protección",
            "Pessoas que recebem assistência jurídica ou gestão de casos de proteção",
        ],
        "people",
        0.0,
    ),
    (
        "PRO-CP-1",
        "PRO-CP",
        ["Children in child-friendly spaces", "Niñas y niños en espacios amigables", "Crianças em espaços amigáveis"],
        "people",
        0.0,
    ),
    (
        "PRO-CP-2",
        "PRO-CP",
        [
            "Children receiving specialised child protection case management",
            "Niñas y niños con gestión de casos especializada",
            "Crianças com gestão de casos especializada",
        ],
        "people",
        0.0,
    ),
    (
        "PRO-GBV-1",
        "PRO-GBV",
        [
            "GBV survivors receiving specialised response services",
            "Sobrevivientes de VBG que reciben servicios especializados",
            "Sobreviventes de VBG que recebem serviços especializados",
        ],
        "people",
        0.0,
    ),
    (
        "PRO-GBV-2",
        "PRO-GBV",
        [
            "People in GBV prevention activities",
            "Personas en actividades de prevención de VBG",
            "Pessoas em atividades de prevenção de VBG",
        ],
        "people",
        0.0,
    ),
    (
        "PRO-GBV-3",
        "PRO-GBV",
        ["Dignity kits distributed", "Kits de dignidad entregados", "Kits de dignidade distribuídos"],
        "kits",
        1.5,
    ),
    (
        "PRO-HTS-1",
        "PRO-HTS",
        [
            "Survivors of trafficking assisted",
            "Sobrevivientes de trata asistidas",
            "Sobreviventes de tráfico assistidas",
        ],
        "people",
        0.0,
    ),
    (
        "PRO-HTS-2",
        "PRO-HTS",
        [
            "People reached by trafficking and smuggling prevention sessions",
            "Personas alcanzadas por sesiones de prevención de trata y tráfico",
            "Pessoas alcançadas por sessões de prevenção ao tráfico",
        ],
        "people",
        0.0,
    ),
    (
        "SHE-1",
        "SHE",
        [
            "People in collective or temporary shelters",
            "Personas en alojamientos colectivos o temporales",
            "Pessoas em abrigos coletivos ou temporários",
        ],
        "people",
        0.0,
    ),
    (
        "SHE-2",
        "SHE",
        [
            "People receiving rental subsidies",
            "Personas que reciben subsidios de arriendo",
            "Pessoas que recebem auxílio-aluguel",
        ],
        "people",
        0.0,
    ),
    (
        "SHE-3",
        "SHE",
        ["Shelter kits distributed", "Kits de alojamiento entregados", "Kits de abrigo distribuídos"],
        "kits",
        4.0,
    ),
    (
        "WASH-1",
        "WASH",
        ["People with access to safe water", "Personas con acceso a agua segura", "Pessoas com acesso a água segura"],
        "people",
        0.0,
    ),
    (
        "WASH-2",
        "WASH",
        [
            "People receiving hygiene kits",
            "Personas que reciben kits de higiene",
            "Pessoas que recebem kits de higiene",
        ],
        "people",
        0.0,
    ),
    (
        "WASH-3",
        "WASH",
        ["Hygiene kits distributed", "Kits de higiene entregados", "Kits de higiene distribuídos"],
        "kits",
        3.5,
    ),
    (
        "MPC-1",
        "MPC",
        [
            "People receiving multipurpose cash",
            "Personas que reciben transferencias multipropósito",
            "Pessoas que recebem transferências multipropósito",
        ],
        "people",
        0.0,
    ),
    (
        "MPC-2",
        "MPC",
        ["Cash transfers made", "Transferencias realizadas", "Transferências realizadas"],
        "transfers",
        3.2,
    ),
    (
        "CS-CWC-1",
        "CS-CWC",
        [
            "People reached through community communication channels",
            "Personas alcanzadas por canales de comunicación con comunidades",
            "Pessoas alcançadas por canais de comunicação com comunidades",
        ],
        "people",
        0.0,
    ),
    (
        "CS-CWC-2",
        "CS-CWC",
        [
            "Feedback and complaints received",
            "Retroalimentaciones y quejas recibidas",
            "Retornos e reclamações recebidos",
        ],
        "messages",
        20.0,
    ),
    (
        "CS-IM-1",
        "CS-IM",
        [
            "Partner staff trained in information management",
            "Personal de socios capacitado en manejo de información",
            "Pessoal de parceiros capacitado em gestão de informação",
        ],
        "people",
        0.0,
    ),
    (
        "CS-IM-2",
        "CS-IM",
        [
            "Assessments and information products published",
            "Evaluaciones y productos de información publicados",
            "Avaliações e produtos de informação publicados",
        ],
        "products",
        0.0,
    ),
    (
        "CS-SS-1",
        "CS-SS",
        [
            "People assisted in support spaces",
            "Personas asistidas en espacios de apoyo",
            "Pessoas atendidas em espaços de apoio",
        ],
        "people",
        0.0,
    ),
    (
        "CS-SS-2",
        "CS-SS",
        ["Support spaces operating", "Espacios de apoyo en funcionamiento", "Espaços de apoio em funcionamento"],
        "spaces",
        0.0,
    ),
];

/// Sectors with targets: share of the country's people in need who need it, share of those
/// targeted, cost per person targeted (USD), and how the people reached split into girls,
/// boys, women, men and other.
const SECTOR_FIGURES: &[(&str, f64, f64, f64, [f64; 5])] = &[
    ("EDU", 0.28, 0.38, 140.0, [0.47, 0.46, 0.04, 0.03, 0.0]),
    ("FSC", 0.62, 0.34, 160.0, [0.18, 0.17, 0.35, 0.29, 0.01]),
    ("HEA", 0.70, 0.36, 95.0, [0.16, 0.14, 0.42, 0.27, 0.01]),
    ("HTR", 0.10, 0.40, 210.0, [0.15, 0.15, 0.33, 0.36, 0.01]),
    ("INT", 0.80, 0.22, 190.0, [0.03, 0.03, 0.50, 0.43, 0.01]),
    ("NUT", 0.15, 0.40, 65.0, [0.33, 0.32, 0.35, 0.0, 0.0]),
    ("PRO", 0.90, 0.33, 55.0, [0.14, 0.13, 0.40, 0.32, 0.01]),
    ("PRO-CP", 0.26, 0.32, 85.0, [0.50, 0.48, 0.01, 0.01, 0.0]),
    ("PRO-GBV", 0.36, 0.30, 95.0, [0.16, 0.03, 0.73, 0.07, 0.01]),
    ("PRO-HTS", 0.10, 0.30, 130.0, [0.12, 0.06, 0.58, 0.23, 0.01]),
    ("SHE", 0.50, 0.28, 260.0, [0.17, 0.16, 0.36, 0.30, 0.01]),
    ("WASH", 0.35, 0.40, 45.0, [0.18, 0.17, 0.35, 0.29, 0.01]),
    ("MPC", 0.42, 0.26, 310.0, [0.17, 0.16, 0.37, 0.29, 0.01]),
    ("CS-CWC", 0.30, 0.45, 6.0, [0.10, 0.09, 0.45, 0.35, 0.01]),
    ("CS-IM", 0.01, 0.50, 40.0, [0.0, 0.0, 0.60, 0.40, 0.0]),
    ("CS-SS", 0.20, 0.40, 22.0, [0.17, 0.16, 0.36, 0.30, 0.01]),
];

/// The 17 host countries: people in need in 2025 (orders of magnitude of the RMRP 2025
/// figures for refugees, migrants and host communities), whether targets are split over
/// admin-1 areas, and the areas where most people live (share of the country).
/// A host country: code, people in need, split by area, main areas and their shares.
type Host = (&'static str, i64, bool, &'static [(&'static str, f64)]);

const HOSTS: &[Host] = &[
    (
        "COL",
        3_470_000,
        true,
        &[
            ("CO-DC", 0.22),
            ("CO-ANT", 0.13),
            ("CO-NSA", 0.11),
            ("CO-ATL", 0.10),
            ("CO-LAG", 0.08),
            ("CO-VAC", 0.08),
            ("CO-CUN", 0.07),
            ("CO-SAN", 0.06),
            ("CO-BOL", 0.05),
            ("CO-MAG", 0.04),
            ("CO-ARA", 0.03),
            ("CO-NAR", 0.03),
        ],
    ),
    (
        "PER",
        1_450_000,
        true,
        &[
            ("PE-LMA", 0.52),
            ("PE-LAL", 0.10),
            ("PE-CAL", 0.08),
            ("PE-PIU", 0.07),
            ("PE-ARE", 0.06),
            ("PE-TUM", 0.06),
            ("PE-ICA", 0.06),
            ("PE-LAM", 0.05),
        ],
    ),
    (
        "ECU",
        520_000,
        true,
        &[
            ("EC-P", 0.34),
            ("EC-G", 0.24),
            ("EC-M", 0.09),
            ("EC-O", 0.08),
            ("EC-C", 0.07),
            ("EC-A", 0.06),
            ("EC-I", 0.06),
            ("EC-U", 0.06),
        ],
    ),
    (
        "BRA",
        500_000,
        true,
        &[
            ("BR-RR", 0.30),
            ("BR-SP", 0.15),
            ("BR-AM", 0.14),
            ("BR-PR", 0.11),
            ("BR-SC", 0.10),
            ("BR-RS", 0.09),
            ("BR-MG", 0.06),
            ("BR-DF", 0.05),
        ],
    ),
    (
        "CHL",
        360_000,
        true,
        &[("CL-RM", 0.58), ("CL-AN", 0.10), ("CL-TA", 0.10), ("CL-AP", 0.08), ("CL-VS", 0.08), ("CL-CO", 0.06)],
    ),
    ("ARG", 130_000, false, &[("AR-C", 0.5), ("AR-B", 0.3), ("AR-X", 0.1), ("AR-M", 0.1)]),
    ("MEX", 200_000, false, &[("MX-CMX", 0.3), ("MX-CHP", 0.3), ("MX-NLE", 0.2), ("MX-BCN", 0.1), ("MX-CHH", 0.1)]),
    ("PAN", 150_000, false, &[("PA-8", 0.6), ("PA-5", 0.25), ("PA-4", 0.15)]),
    ("DOM", 70_000, false, &[("DO-01", 0.5), ("DO-32", 0.3), ("DO-25", 0.2)]),
    ("CRI", 50_000, false, &[("CR-SJ", 0.6), ("CR-A", 0.2), ("CR-P", 0.2)]),
    ("BOL", 30_000, false, &[("BO-L", 0.4), ("BO-S", 0.3), ("BO-O", 0.3)]),
    ("URY", 25_000, false, &[("UY-MO", 0.7), ("UY-CA", 0.2), ("UY-RV", 0.1)]),
    ("PRY", 6_000, false, &[("PY-ASU", 0.6), ("PY-11", 0.3), ("PY-10", 0.1)]),
    ("TTO", 40_000, false, &[("TT-POS", 0.4), ("TT-SFO", 0.2), ("TT-CHA", 0.2), ("TT-SIP", 0.2)]),
    ("GUY", 30_000, false, &[("GY-BA", 0.4), ("GY-DE", 0.4), ("GY-UT", 0.2)]),
    ("ABW", 10_000, false, &[("AW", 1.0)]),
    ("CUW", 12_000, false, &[("CW", 1.0)]),
];

/// The countries' languages for the names of national organisations.
fn language(country: &str) -> usize {
    match country {
        "BRA" => 1,
        "TTO" | "GUY" => 2,
        "ABW" | "CUW" => 3,
        _ => 0,
    }
}

/// International organisations added to the general demo's: name, acronym, kind, countries
/// (0: drawn, weighted by size).
const INTERNATIONAL: &[(&str, &str, OrganisationKind, usize)] = &[
    ("United Nations Population Fund", "UNFPA", OrganisationKind::UnAgency, 8),
    ("Pan American Health Organization", "PAHO", OrganisationKind::UnAgency, 9),
    ("UN Women", "UN Women", OrganisationKind::UnAgency, 6),
    ("International Labour Organization", "ILO", OrganisationKind::UnAgency, 5),
    ("Food and Agriculture Organization of the United Nations", "FAO", OrganisationKind::UnAgency, 4),
    ("United Nations Development Programme", "UNDP", OrganisationKind::UnAgency, 6),
    ("Joint United Nations Programme on HIV/AIDS", "UNAIDS", OrganisationKind::UnAgency, 4),
    ("United Nations Office on Drugs and Crime", "UNODC", OrganisationKind::UnAgency, 4),
    ("World Vision International", "WVI", OrganisationKind::Ingo, 6),
    ("Plan International", "Plan", OrganisationKind::Ingo, 5),
    ("CARE International", "CARE", OrganisationKind::Ingo, 4),
    ("International Rescue Committee", "IRC", OrganisationKind::Ingo, 4),
    ("Mercy Corps", "MC", OrganisationKind::Ingo, 2),
    ("Oxfam", "Oxfam", OrganisationKind::Ingo, 3),
    ("Jesuit Refugee Service", "JRS", OrganisationKind::Ingo, 4),
    ("Action Against Hunger", "ACF", OrganisationKind::Ingo, 3),
    ("Médecins du Monde", "MdM", OrganisationKind::Ingo, 2),
    ("Terre des hommes", "Tdh", OrganisationKind::Ingo, 3),
    ("Adventist Development and Relief Agency", "ADRA", OrganisationKind::Ingo, 4),
    ("Humanity & Inclusion", "HI", OrganisationKind::Ingo, 3),
    ("ChildFund International", "ChildFund", OrganisationKind::Ingo, 2),
    ("Heartland Alliance International", "HAI", OrganisationKind::Ingo, 2),
    ("Pan American Development Foundation", "PADF", OrganisationKind::Ingo, 4),
    ("Americares", "Americares", OrganisationKind::Ingo, 2),
    ("Solidarités International", "SI", OrganisationKind::Ingo, 2),
    ("COOPI – Cooperazione Internazionale", "COOPI", OrganisationKind::Ingo, 3),
    ("Alianza por la Solidaridad – ActionAid", "APS", OrganisationKind::Ingo, 2),
    ("Ayuda en Acción", "AeA", OrganisationKind::Ingo, 3),
    ("Diakonie Katastrophenhilfe", "DKH", OrganisationKind::Ingo, 3),
    ("International Federation of Red Cross and Red Crescent Societies", "IFRC", OrganisationKind::RedCross, 6),
    ("International Medical Corps", "IMC", OrganisationKind::Ingo, 2),
    ("Lutheran World Federation", "LWF", OrganisationKind::Ingo, 2),
    ("Habitat for Humanity", "HFH", OrganisationKind::Ingo, 3),
    ("Aldeas Infantiles SOS", "SOS", OrganisationKind::Ingo, 4),
    ("Global Communities", "GC", OrganisationKind::Ingo, 2),
];

/// National Red Cross societies and Caritas (one country each).
const NATIONAL_KNOWN: &[(&str, &str, OrganisationKind, &str)] = &[
    ("Cruz Roja Argentina", "CRA", OrganisationKind::RedCross, "ARG"),
    ("Aruba Red Cross", "ARC", OrganisationKind::RedCross, "ABW"),
    ("Cruz Roja Boliviana", "CRB", OrganisationKind::RedCross, "BOL"),
    ("Cruz Vermelha Brasileira", "CVB", OrganisationKind::RedCross, "BRA"),
    ("Cruz Roja Chilena", "CRCh", OrganisationKind::RedCross, "CHL"),
    ("Cruz Roja Costarricense", "CRCR", OrganisationKind::RedCross, "CRI"),
    ("Red Cross Curaçao", "RCC", OrganisationKind::RedCross, "CUW"),
    ("Cruz Roja Dominicana", "CRD", OrganisationKind::RedCross, "DOM"),
    ("Cruz Roja Ecuatoriana", "CRE", OrganisationKind::RedCross, "ECU"),
    ("Guyana Red Cross Society", "GRCS", OrganisationKind::RedCross, "GUY"),
    ("Cruz Roja Mexicana", "CRM", OrganisationKind::RedCross, "MEX"),
    ("Cruz Roja Panameña", "CRP", OrganisationKind::RedCross, "PAN"),
    ("Cruz Roja Paraguaya", "CRPy", OrganisationKind::RedCross, "PRY"),
    ("Cruz Roja Peruana", "CRPe", OrganisationKind::RedCross, "PER"),
    ("Trinidad and Tobago Red Cross Society", "TTRCS", OrganisationKind::RedCross, "TTO"),
    ("Cruz Roja Uruguaya", "CRU", OrganisationKind::RedCross, "URY"),
    ("Cáritas Colombiana", "Cáritas COL", OrganisationKind::Nngo, "COL"),
    ("Cáritas del Perú", "Cáritas PER", OrganisationKind::Nngo, "PER"),
    ("Cáritas Ecuador", "Cáritas ECU", OrganisationKind::Nngo, "ECU"),
    ("Cáritas Brasileira", "Cáritas BRA", OrganisationKind::Nngo, "BRA"),
    ("Cáritas Chile", "Cáritas CHL", OrganisationKind::Nngo, "CHL"),
];

/// Words for the invented national NGOs, per language (Spanish, Portuguese, English,
/// Papiamento): kinds of organisation, and names.
const NGO_KINDS: [&[&str]; 4] = [
    &["Fundación", "Asociación", "Corporación", "Red", "Centro", "Colectivo", "Alianza", "Misión"],
    &["Associação", "Instituto", "Centro", "Rede", "Coletivo", "Fundação"],
    &["Foundation", "Society", "Network", "Centre"],
    &["Fundashon", "Asosiashon"],
];
const NGO_NAMES: [&[&str]; 4] = [
    &[
        "Camino Nuevo",
        "Manos Unidas",
        "Puentes de Esperanza",
        "Nuevo Horizonte",
        "Tejido Social",
        "Sembrando Futuro",
        "Acogida Solidaria",
        "Raíces Compartidas",
        "Vida Digna",
        "Tierra Fértil",
        "Mujeres sin Fronteras",
        "Derechos en Movimiento",
        "Casa de Paso",
        "Brazos Abiertos",
        "Huellas",
        "Pueblo Unido",
        "Luz y Camino",
        "Amanecer",
        "Nueva Ruta",
        "Hermanos del Camino",
        "Paz y Bien",
        "Renacer",
        "Semillas",
        "Frontera Solidaria",
    ],
    &[
        "Caminhos",
        "Mãos Dadas",
        "Pontes",
        "Novo Horizonte",
        "Acolher",
        "Raízes",
        "Vida Digna",
        "Esperança",
        "Semear",
        "Portas Abertas",
        "Travessia",
        "Bom Vizinho",
    ],
    &["Bridges", "New Horizons", "Open Doors", "Hands Together", "Safe Harbour", "Living Hope", "Welcome Home"],
    &["Bon Bida", "Esperansa", "Man na Man", "Kas di Bida", "Brasa Abierto"],
];

/// Which sectors the well-known organisations work in.
fn known_sectors(acronym: &str) -> Option<&'static [&'static str]> {
    Some(match acronym {
        "IOM" => &["HTR", "SHE", "INT", "HEA", "PRO-HTS", "CS-IM", "MPC"],
        "UNHCR" => &["PRO", "SHE", "INT", "MPC", "CS-CWC", "CS-SS", "PRO-GBV"],
        "UNICEF" => &["EDU", "NUT", "PRO-CP", "WASH"],
        "WFP" => &["FSC", "MPC", "NUT"],
        "NRC" => &["PRO", "SHE", "EDU", "INT", "WASH"],
        "HIAS" => &["PRO", "PRO-GBV", "INT", "HEA"],
        "SC" => &["EDU", "PRO-CP", "NUT", "FSC"],
        "DRC" => &["PRO", "MPC", "INT", "SHE"],
        "CRC" | "IFRC" => &["HEA", "WASH", "FSC", "CS-SS"],
        "Halü" | "UNFPA" => &["HEA", "PRO-GBV"],
        "UN Women" => &["PRO-GBV", "INT"],
        "ILO" | "UNDP" | "UAEMC" => &["INT"],
        "FAO" => &["FSC"],
        "PAHO" | "UNAIDS" | "MdM" | "IMC" | "Americares" => &["HEA"],
        "UNODC" => &["PRO-HTS"],
        "ACF" => &["NUT", "FSC", "WASH"],
        "HFH" => &["SHE"],
        "SOS" | "ChildFund" | "Tdh" => &["PRO-CP", "EDU"],
        "SI" => &["WASH"],
        _ => return None,
    })
}

/// splitmix64 (Steele, Lea and Flood, 2014): the demo is the same at every start.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// An organisation of the demo as the generator sees it.
struct Org {
    id: i64,
    acronym: String,
    kind: OrganisationKind,
    countries: Vec<&'static str>,
    sectors: Vec<&'static str>,
}

/// One organisation's work on one target of a year: what the rows of every month come from.
#[derive(Clone)]
struct Slot {
    org: usize,
    implementing: Option<i64>,
    country: &'static str,
    /// The areas the rows name (the target's area, or the country's main areas).
    areas: Vec<String>,
    indicator: &'static str,
    other_indicator: Option<(&'static str, f64)>,
    population: &'static str,
    modality: Option<&'static str>,
    cash_per_person: f64,
    /// New people over the year's reported months.
    budget: f64,
    first_month: usize,
    split: [f64; 5],
}

/// A row to be, with the day its organisation sent it.
struct Draft {
    org: usize,
    month: usize,
    slot: usize,
    input: ReportInput,
}

fn month_start(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default()
}

fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("5W demo, {what}: {e}"))
}

/// The months reported, from January 2025 to the month before `today` (at most December 2026).
pub fn reported_months(today: NaiveDate) -> Vec<NaiveDate> {
    let last = month_start(today.year(), today.month())
        .checked_sub_months(Months::new(1))
        .unwrap_or_default()
        .min(month_start(2026, 12));
    let mut months = Vec::new();
    let mut m = month_start(2025, 1);
    while m <= last {
        months.push(m);
        m = m.checked_add_months(Months::new(1)).unwrap_or(last);
        if months.len() > 24 {
            break;
        }
    }
    months
}

/// The demo accounts that report and review.
struct Accounts {
    admin: Caller,
    im_officer: Caller,
    partner: Caller,
}

fn andean(country: &str) -> bool {
    matches!(country, "COL" | "ECU" | "PER" | "VEN")
}

impl Accounts {
    /// Who enters an organisation's rows in a country: the partner reporter her
    /// organisation's in Colombia, the IM officer the Andean countries', the administrator
    /// the others'.
    fn reporter(&self, org: i64, partner_org: Option<i64>, country: &str) -> &Caller {
        if Some(org) == partner_org && country == "COL" {
            &self.partner
        } else if andean(country) {
            &self.im_officer
        } else {
            &self.admin
        }
    }
    fn reviewer(&self, country: &str) -> &Caller {
        if andean(country) { &self.im_officer } else { &self.admin }
    }
    fn by_id(&self, id: i64) -> &Caller {
        [&self.partner, &self.im_officer].into_iter().find(|c| c.user.id == id).unwrap_or(&self.admin)
    }
}

async fn user(state: &AppState, username: &str) -> ApiResult<User> {
    let id = state.store.user_id_by_username(username).await?;
    Ok(state.store.user(id).await?)
}

/// Fills the 5W part of the demo (after the general demo: countries, admin-1 areas, the
/// first organisations and users). `rows_per_year` scales the activity reports (tests use
/// a few thousand); `today` decides which months are reported and which await review.
pub async fn fill(state: &AppState, rows_per_year: usize, today: NaiveDate) -> ApiResult<Summary> {
    let mut rng = Rng(0x5757_2025);
    let system = Actor::system("demo");
    let mut summary = Summary::default();

    // ---- plans ----
    let admin1 = state.store.admin1_countries().await?;
    let mut plans: Vec<Plan> = Vec::new();
    for year in YEARS {
        let input = plan_input(year, &admin1, &mut Rng(0x504c_414e ^ u64::from(year.unsigned_abs())));
        summary.targets += input.targets.len();
        let admin = Caller { user: user(state, "admin").await?, csrf: None };
        plans.push(state.store.save_response_plan(&admin.actor(), &input).await?);
        summary.plans.push(year);
    }

    // ---- organisations ----
    let orgs = organisations(state, &system, &mut rng).await?;
    summary.organisations = state.store.organisation_names().await?.len();

    // ---- who reports, who reviews ----
    let accounts = Accounts {
        admin: Caller { user: user(state, "admin").await?, csrf: None },
        im_officer: Caller { user: user(state, "im_officer").await?, csrf: None },
        partner: Caller { user: user(state, "partner_reporter").await?, csrf: None },
    };
    let nrc = accounts.partner.user.organisation_id;

    let months = reported_months(today);
    let pending_from = months.len().saturating_sub(2);
    let names = state.store.organisation_names().await?;
    let countries: HashSet<String> = state.store.list_countries().await?.into_iter().map(|c| c.code).collect();

    for plan in &plans {
        let year_months: Vec<(usize, NaiveDate)> =
            months.iter().copied().enumerate().filter(|(_, m)| m.year() == plan.year).collect();
        if year_months.is_empty() {
            continue;
        }
        let checker = Checker::new(plan, admin1.clone(), countries.clone(), &names);
        let share_of_year = year_months.len() as f64 / 12.0;
        let mut slots = slots(plan, &orgs, &admin1, share_of_year, nrc, &mut rng);
        thin(&mut slots, &orgs, rows_per_year, year_months.len(), nrc, &mut rng);
        let drafts = drafts(&slots, &orgs, &year_months, &mut rng);
        // Checked as an upload's rows are.
        let mut checked: Vec<(usize, usize, usize, NewActivityReport)> = Vec::with_capacity(drafts.len());
        let mut errors = Vec::new();
        for d in &drafts {
            let Some(row) = checker.check(&d.input, orgs[d.org].id, &|c: &str| c.to_string(), &mut errors) else {
                return Err(internal("a generated row is refused", format!("{errors:?}")));
            };
            checked.push((d.org, d.month, d.slot, row));
        }
        let (history, pending): (Vec<_>, Vec<_>) = checked.into_iter().partition(|(_, m, _, _)| *m < pending_from);

        // History: each month entered as one batch per reporting account, flagged as of the
        // day each organisation sent it, then approved by the country's reviewer.
        let mut existing: HashMap<i64, HashMap<ReportKey, i64>> = HashMap::new();
        let mut past: HashMap<i64, Vec<PastFigure>> = HashMap::new();
        let mut by_month: BTreeMap<usize, Vec<(usize, NewActivityReport)>> = BTreeMap::new();
        for (org, month, _, row) in history {
            by_month.entry(month).or_default().push((org, row));
        }
        for (month, rows) in by_month {
            let mut by_org: BTreeMap<usize, Vec<NewActivityReport>> = BTreeMap::new();
            for (org, row) in rows {
                by_org.entry(org).or_default().push(row);
            }
            let mut batches: BTreeMap<(i64, bool), Vec<NewActivityReport>> = BTreeMap::new();
            for (org, mut group) in by_org {
                let o = &orgs[org];
                let sent = sent_on(months[month], &mut rng, 0.06);
                let keys = existing.entry(o.id).or_default();
                let figures = past.entry(o.id).or_default();
                reports::raise_flags(&mut group, DEADLINE_DAY, sent, keys, figures);
                for r in &group {
                    *keys.entry(r.key()).or_insert(0) += 1;
                    figures.push(PastFigure {
                        indicator_code: r.indicator_code.clone(),
                        month: r.month,
                        total: r.total,
                    });
                    let who = accounts.reporter(o.id, nrc, &r.country_code);
                    batches.entry((who.user.id, andean(&r.country_code))).or_default().push(r.clone());
                }
            }
            let mut to_approve: BTreeMap<bool, Vec<i64>> = BTreeMap::new();
            for ((user_id, is_andean), rows) in batches {
                let who = accounts.by_id(user_id);
                let (_, ids) = state.store.insert_activity_reports(&who.actor(), plan.id, None, &rows).await?;
                summary.rows += ids.len();
                to_approve.entry(is_andean).or_default().extend(ids);
            }
            for (is_andean, ids) in to_approve {
                let who = accounts.reviewer(if is_andean { "COL" } else { "ARG" });
                state.store.review_activity_reports(&who.actor(), &ids, "approved", None).await?;
            }
        }

        // The last two months: each organisation's upload, awaiting review, with the errors
        // a reviewer is there to catch.
        if !pending.is_empty() {
            let done =
                pending_uploads(state, plan, &orgs, &months, pending, &slots, today, &mut rng, &accounts).await?;
            summary.rows += done.rows;
            summary.returned += done.returned.len();
            for (id, note, country) in done.returned {
                let who = accounts.reviewer(&country);
                state.store.review_activity_reports(&who.actor(), &[id], "returned", Some(note)).await?;
            }
            summary.refused_uploads +=
                refused_uploads(state, plan, &orgs, &accounts.partner, &accounts.admin, nrc).await?;
        }
    }

    // What awaits review.
    for plan in &plans {
        let filter = rumbo_store::response::ReportFilter {
            plan_id: plan.id,
            status: Some("submitted".into()),
            limit: 1,
            ..Default::default()
        };
        summary.awaiting_review +=
            usize::try_from(state.store.list_activity_reports(&filter).await?.total).unwrap_or(0);
        let flagged = rumbo_store::response::ReportFilter { flagged: true, ..filter };
        summary.flagged += usize::try_from(state.store.list_activity_reports(&flagged).await?.total).unwrap_or(0);
    }
    Ok(summary)
}

/// The day an organisation sent a month's report: before the deadline, or (now and then)
/// some days after it.
fn sent_on(month: NaiveDate, rng: &mut Rng, late: f64) -> NaiveDate {
    let next = month.checked_add_months(Months::new(1)).unwrap_or(month);
    let day = if rng.chance(late) { DEADLINE_DAY as u32 + 3 + rng.below(14) as u32 } else { 2 + rng.below(8) as u32 };
    next.with_day(day).unwrap_or(next)
}

/// The plan of a year: the RMRP sectors, their indicators, and targets per country (and
/// main admin-1 areas in the five largest) and sector.
fn plan_input(year: i32, admin1: &HashMap<String, String>, rng: &mut Rng) -> PlanInput {
    let sectors = DEFAULT_SECTORS
        .iter()
        .map(|(code, parent, en, es, pt)| PlanSector {
            code: (*code).into(),
            parent_code: parent.map(str::to_string),
            name_en: (*en).into(),
            name_es: (*es).into(),
            name_pt: (*pt).into(),
        })
        .collect();
    let indicators = INDICATORS
        .iter()
        .map(|(code, sector, [en, es, pt], unit, _)| PlanIndicator {
            code: (*code).into(),
            sector_code: (*sector).into(),
            name_en: (*en).into(),
            name_es: (*es).into(),
            name_pt: (*pt).into(),
            unit: (*unit).into(),
            counts_people: *unit == "people",
        })
        .collect();
    // 2026: more people in need, fewer targeted (the appeal shrank with its funding).
    let (need_growth, target_cut) = if year >= 2026 { (1.04, 0.86) } else { (1.0, 1.0) };
    let mut targets = Vec::new();
    for (country, pin, split, areas) in HOSTS {
        for (sector, need_share, target_share, cost, _) in SECTOR_FIGURES {
            let need = *pin as f64 * need_share * need_growth * rng.range(0.9, 1.1);
            let targeted = need * target_share * target_cut * rng.range(0.85, 1.15);
            let parts: Vec<(Option<String>, f64)> = if *split {
                let known: Vec<&(&str, f64)> = areas.iter().filter(|(p, _)| admin1.contains_key(*p)).collect();
                let sum: f64 = known.iter().map(|(_, w)| w).sum();
                known.iter().map(|(p, w)| (Some((*p).to_string()), w / sum)).collect()
            } else {
                vec![(None, 1.0)]
            };
            for (area, weight) in parts {
                let in_need = (need * weight).round().max(10.0) as i64;
                let people_targeted = ((targeted * weight).round() as i64).clamp(5, in_need);
                targets.push(PlanTarget {
                    country_code: (*country).into(),
                    admin1_pcode: area,
                    sector_code: (*sector).into(),
                    people_in_need: in_need,
                    people_targeted,
                    funding_required_usd: (people_targeted as f64 * cost * rng.range(0.9, 1.1) / 100.0).round() * 100.0,
                });
            }
        }
    }
    PlanInput {
        year,
        name: format!("Refugee and Migrant Response Plan (RMRP) {year}"),
        period_start: month_start(year, 1),
        period_end: NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
        deadline_day: DEADLINE_DAY,
        sectors,
        indicators,
        targets,
    }
}

/// The acronym of an invented name: its capitalised words' initials and the country.
fn acronym_of(name: &str, country: &str) -> String {
    let initials: String =
        name.split_whitespace().filter_map(|w| w.chars().next()).filter(|c| c.is_uppercase()).collect();
    format!("{initials}-{}", &country[..2])
}

/// The demo's 230 organisations (the general demo's 11 and 219 more), with the countries
/// and sectors each works in.
async fn organisations(state: &AppState, actor: &Actor, rng: &mut Rng) -> ApiResult<Vec<Org>> {
    let existing = state.store.list_organisations(&ListFilter { limit: Some(10_000), ..Default::default() }).await?;
    let hosts: Vec<&'static str> = HOSTS.iter().map(|h| h.0).collect();
    // Weighted by people in need (square root: small countries still have partners).
    let weights: Vec<f64> = HOSTS.iter().map(|h| (h.1 as f64).sqrt()).collect();
    let draw_countries = |n: usize, rng: &mut Rng| -> Vec<&'static str> {
        let mut chosen: Vec<&'static str> = Vec::new();
        let total: f64 = weights.iter().sum();
        while chosen.len() < n.min(hosts.len()) {
            let mut x = rng.unit() * total;
            for (i, w) in weights.iter().enumerate() {
                x -= w;
                if x <= 0.0 {
                    if !chosen.contains(&hosts[i]) {
                        chosen.push(hosts[i]);
                    }
                    break;
                }
            }
        }
        chosen
    };
    let all_sectors: Vec<&'static str> = SECTOR_FIGURES.iter().map(|s| s.0).collect();
    let draw_sectors = |acronym: &str, n: usize, rng: &mut Rng| -> Vec<&'static str> {
        if let Some(known) = known_sectors(acronym) {
            return known.to_vec();
        }
        let mut chosen = Vec::new();
        while chosen.len() < n {
            let s = all_sectors[rng.below(all_sectors.len())];
            if !chosen.contains(&s) {
                chosen.push(s);
            }
        }
        chosen
    };
    let mut orgs = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    for o in existing.items {
        let countries: Vec<&'static str> = match o.acronym.as_str() {
            "IOM" | "UNHCR" => hosts.clone(),
            "UNICEF" | "WFP" => {
                hosts.iter().copied().filter(|c| !matches!(*c, "ABW" | "CUW" | "PRY" | "URY")).collect()
            }
            "NRC" | "DRC" => vec!["COL", "ECU", "PER", "PAN"],
            "HIAS" => vec!["COL", "ECU", "PER", "CRI", "MEX"],
            "SC" => vec!["COL", "PER", "ECU", "BRA"],
            _ => vec!["COL"],
        };
        taken.insert(o.name.to_lowercase());
        taken.insert(o.acronym.to_lowercase());
        let sectors = draw_sectors(&o.acronym, 3, rng);
        orgs.push(Org { id: o.id, acronym: o.acronym, kind: o.kind, countries, sectors });
    }
    let save = |name: String, acronym: String, kind: OrganisationKind| async move {
        state.store.save_organisation(actor, None, &OrganisationInput { name, acronym, kind }).await
    };
    for (name, acronym, kind, n) in INTERNATIONAL {
        if orgs.len() >= ORGANISATIONS || taken.contains(&name.to_lowercase()) {
            continue;
        }
        let saved = save((*name).into(), (*acronym).into(), *kind).await?;
        taken.insert(name.to_lowercase());
        taken.insert(acronym.to_lowercase());
        let countries = draw_countries(*n, rng);
        let sectors = draw_sectors(acronym, 2 + rng.below(3), rng);
        orgs.push(Org { id: saved.id, acronym: (*acronym).into(), kind: *kind, countries, sectors });
    }
    for (name, acronym, kind, country) in NATIONAL_KNOWN {
        if orgs.len() >= ORGANISATIONS || taken.contains(&name.to_lowercase()) {
            continue;
        }
        let saved = save((*name).into(), (*acronym).into(), *kind).await?;
        taken.insert(name.to_lowercase());
        taken.insert(acronym.to_lowercase());
        let sectors = if *kind == OrganisationKind::RedCross {
            vec!["HEA", "WASH", "FSC", "CS-SS", "PRO"]
        } else {
            draw_sectors(acronym, 3, rng)
        };
        orgs.push(Org { id: saved.id, acronym: (*acronym).into(), kind: *kind, countries: vec![*country], sectors });
    }
    // National NGOs, in proportion to the countries' size, until 230.
    let mut counter = 0usize;
    while orgs.len() < ORGANISATIONS {
        let country = draw_countries(1, rng)[0];
        let lang = language(country);
        let (kinds, words) = (NGO_KINDS[lang], NGO_NAMES[lang]);
        counter += 1;
        let word = words[rng.below(words.len())];
        let kind_word = kinds[rng.below(kinds.len())];
        let base = if lang == 2 { format!("{word} {kind_word}") } else { format!("{kind_word} {word}") };
        let name = format!("{base} ({country})");
        let mut acronym = acronym_of(&base, country);
        if taken.contains(&name.to_lowercase()) {
            if counter > 10_000 {
                return Err(internal("organisations", "ran out of names"));
            }
            continue;
        }
        if taken.contains(&acronym.to_lowercase()) {
            acronym = format!("{acronym}{}", orgs.len());
        }
        let saved = save(name.clone(), acronym.clone(), OrganisationKind::Nngo).await?;
        taken.insert(name.to_lowercase());
        taken.insert(acronym.to_lowercase());
        let mut countries = vec![country];
        if rng.chance(0.15) {
            let other = draw_countries(2, rng).into_iter().find(|c| *c != country);
            countries.extend(other);
        }
        let sectors = draw_sectors("", 1 + rng.below(3), rng);
        orgs.push(Org { id: saved.id, acronym, kind: OrganisationKind::Nngo, countries, sectors });
    }
    Ok(orgs)
}

/// How the people a target's partners reach split into organisations' slots.
fn slots(
    plan: &Plan,
    orgs: &[Org],
    admin1: &HashMap<String, String>,
    share_of_year: f64,
    nrc: Option<i64>,
    rng: &mut Rng,
) -> Vec<Slot> {
    let mut out: Vec<Slot> = Vec::new();
    let mut used: HashSet<(usize, String, Option<String>, String)> = HashSet::new();
    // How much of its target each country and sector reaches by the year's end.
    let mut reach_share: HashMap<(String, String), f64> = HashMap::new();
    let sector_of = |code: &str| SECTOR_FIGURES.iter().find(|s| s.0 == code);
    for t in &plan.targets {
        let Some(host) = HOSTS.iter().find(|h| h.0 == t.country_code) else { continue };
        let Some(figures) = sector_of(&t.sector_code) else { continue };
        let share =
            *reach_share.entry((t.country_code.clone(), t.sector_code.clone())).or_insert_with(|| rng.range(0.18, 0.6));
        let in_country: Vec<usize> = (0..orgs.len()).filter(|i| orgs[*i].countries.contains(&host.0)).collect();
        let mut candidates: Vec<usize> =
            in_country.iter().copied().filter(|i| orgs[*i].sectors.contains(&figures.0)).collect();
        if candidates.is_empty() {
            candidates.clone_from(&in_country);
        }
        let n = if rng.chance(0.5) { 2 } else { 1 }.min(candidates.len());
        let mut partners = Vec::new();
        // The demo partner reporter's organisation works in all its Colombian areas' sectors.
        if let Some(nrc) = nrc
            && t.country_code == "COL"
            && let Some(i) = candidates.iter().copied().find(|i| orgs[*i].id == nrc)
            && matches!(t.admin1_pcode.as_deref(), Some("CO-DC" | "CO-NSA" | "CO-LAG" | "CO-ATL"))
        {
            partners.push(i);
        }
        while partners.len() < n {
            let i = candidates[rng.below(candidates.len())];
            if !partners.contains(&i) {
                partners.push(i);
            }
        }
        let areas: Vec<String> = match &t.admin1_pcode {
            Some(p) => vec![p.clone()],
            None => host.3.iter().map(|(p, _)| (*p).to_string()).filter(|p| admin1.contains_key(p)).collect(),
        };
        let budget = t.people_targeted as f64 * share * share_of_year / partners.len() as f64;
        for org in partners {
            if !used.insert((org, t.country_code.clone(), t.admin1_pcode.clone(), t.sector_code.clone())) {
                continue;
            }
            out.push(new_slot(org, host.0, areas.clone(), figures, budget * rng.range(0.85, 1.15), rng));
        }
    }
    // Every organisation reports something: one of its countries' targets, in its sectors.
    for (i, o) in orgs.iter().enumerate() {
        if out.iter().any(|s| s.org == i) {
            continue;
        }
        let mine: Vec<&PlanTarget> = plan
            .targets
            .iter()
            .filter(|t| o.countries.contains(&t.country_code.as_str()) && o.sectors.contains(&t.sector_code.as_str()))
            .collect();
        let Some(t) = mine.get(rng.below(mine.len())).copied() else { continue };
        let (Some(host), Some(figures)) = (HOSTS.iter().find(|h| h.0 == t.country_code), sector_of(&t.sector_code))
        else {
            continue;
        };
        let areas: Vec<String> = match &t.admin1_pcode {
            Some(p) => vec![p.clone()],
            None => host.3.iter().map(|(p, _)| (*p).to_string()).filter(|p| admin1.contains_key(p)).collect(),
        };
        // A small partner: a hundredth of the target (a few hundred to a few thousand people).
        let budget = t.people_targeted as f64 * 0.01 * share_of_year;
        out.push(new_slot(i, host.0, areas, figures, budget, rng));
    }
    // An organisation's figures for one indicator stay within one order of magnitude (or
    // the outlier check would flag its large areas against its small ones).
    let mut by_org_indicator: HashMap<(usize, &str), Vec<f64>> = HashMap::new();
    for s in &out {
        by_org_indicator.entry((s.org, s.indicator)).or_default().push(s.budget);
    }
    for s in &mut out {
        let mut budgets = by_org_indicator[&(s.org, s.indicator)].clone();
        budgets.sort_by(f64::total_cmp);
        let median = budgets[(budgets.len() - 1) / 2];
        s.budget = s.budget.min(median * 2.0);
    }
    // UN agencies and international NGOs hand part of their work to national partners.
    let nationals: HashMap<&str, Vec<i64>> = HOSTS
        .iter()
        .map(|h| {
            (
                h.0,
                orgs.iter()
                    .filter(|o| o.kind == OrganisationKind::Nngo && o.countries.contains(&h.0))
                    .map(|o| o.id)
                    .collect(),
            )
        })
        .collect();
    for s in &mut out {
        let o = &orgs[s.org];
        if matches!(o.kind, OrganisationKind::UnAgency | OrganisationKind::Ingo)
            && Some(o.id) != nrc
            && rng.chance(0.15)
            && let Some(list) = nationals.get(s.country).filter(|l| !l.is_empty())
        {
            s.implementing = Some(list[rng.below(list.len())]);
        }
    }
    out
}

fn new_slot(
    org: usize,
    country: &'static str,
    areas: Vec<String>,
    figures: &(&'static str, f64, f64, f64, [f64; 5]),
    budget: f64,
    rng: &mut Rng,
) -> Slot {
    let sector = figures.0;
    let people: Vec<&IndicatorRow> = INDICATORS.iter().filter(|i| i.1 == sector && i.3 == "people").collect();
    let other = INDICATORS.iter().find(|i| i.1 == sector && i.3 != "people").map(|i| (i.0, i.4));
    let indicator = people[rng.below(people.len())].0;
    let population = {
        let x = rng.unit();
        let border = matches!(country, "COL");
        let transit = matches!(country, "PAN" | "CRI" | "MEX");
        if transit && x < 0.45 || x < 0.08 {
            "in_transit"
        } else if x < 0.2 {
            "host_community"
        } else if border && x < 0.27 {
            "pendular"
        } else if border && x < 0.31 {
            "colombian_returnees"
        } else {
            "in_destination"
        }
    };
    let (modality, cash_per_person) = match sector {
        "MPC" => (Some("cash"), rng.range(45.0, 60.0)),
        "FSC" => {
            let x = rng.unit();
            if x < 0.5 {
                (Some("in_kind"), 0.0)
            } else if x < 0.8 {
                (Some("voucher"), rng.range(20.0, 30.0))
            } else {
                (Some("cash"), rng.range(25.0, 35.0))
            }
        }
        "SHE" if indicator == "SHE-2" => (Some("cash"), rng.range(60.0, 90.0)),
        "SHE" | "WASH" | "NUT" => (Some("in_kind"), 0.0),
        "HTR" => {
            if rng.chance(0.3) {
                (Some("voucher"), rng.range(15.0, 40.0))
            } else {
                (Some("in_kind"), 0.0)
            }
        }
        "INT" if rng.chance(0.3) => (Some("cash"), rng.range(80.0, 120.0)),
        "EDU" if rng.chance(0.4) => (Some("in_kind"), 0.0),
        _ => (Some("service"), 0.0),
    };
    let mut split = figures.4;
    for s in &mut split {
        *s *= rng.range(0.85, 1.15);
    }
    let sum: f64 = split.iter().sum();
    for s in &mut split {
        *s /= sum;
    }
    Slot {
        org,
        implementing: None,
        country,
        areas,
        indicator,
        other_indicator: other,
        population,
        modality,
        cash_per_person,
        budget,
        first_month: if rng.chance(0.7) { 0 } else { 1 + rng.below(3) },
        split,
    }
}

/// About how many rows a slot makes in a year of `months` months.
/// The area a country-wide slot reports in for a month: the same for every slot of the
/// country that month (partners of different sectors work in the same places), so that
/// across sectors the largest sector per area stays near the largest sector, as the plan's
/// country-wide targets assume.
fn area_of_month(areas: &[String], country: &str, month: usize) -> Option<String> {
    if areas.len() <= 1 {
        return areas.first().cloned();
    }
    let seed =
        country.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    Some(areas[Rng(seed ^ month as u64).below(areas.len())].clone())
}

fn rows_of(slot: &Slot, months: usize) -> f64 {
    let active = months.saturating_sub(slot.first_month) as f64;
    active * (1.75 + if slot.other_indicator.is_some() { 0.45 } else { 0.0 })
}

/// Keeps about `rows_per_year` rows' worth of slots (every country and organisation keeps
/// some, and the demo partner reporter's organisation all of its own).
fn thin(slots: &mut Vec<Slot>, orgs: &[Org], rows_per_year: usize, months: usize, nrc: Option<i64>, rng: &mut Rng) {
    let wanted = rows_per_year as f64 * months as f64 / 12.0;
    let total: f64 = slots.iter().map(|s| rows_of(s, months)).sum();
    if total <= wanted {
        return;
    }
    let keep = wanted / total;
    let mut countries: HashSet<&str> = HashSet::new();
    let mut kept_orgs: HashSet<usize> = HashSet::new();
    let small = rows_per_year < 10_000;
    slots.retain(|s| {
        let first_of_country = countries.insert(s.country);
        let mine = Some(orgs[s.org].id) == nrc && s.country == "COL";
        let first_of_org = !small && kept_orgs.insert(s.org);
        first_of_country || mine || first_of_org || rng.chance(keep)
    });
}

/// The rows of a year's slots, month by month.
fn drafts(slots: &[Slot], orgs: &[Org], months: &[(usize, NaiveDate)], rng: &mut Rng) -> Vec<Draft> {
    let mut out = Vec::new();
    for (index, s) in slots.iter().enumerate() {
        let active: Vec<&(usize, NaiveDate)> = months.iter().skip(s.first_month).collect();
        if active.is_empty() {
            continue;
        }
        // New people: more in the first month; none in about a quarter of the others.
        let weights: Vec<f64> = (0..active.len())
            .map(|i| {
                if i == 0 {
                    1.6
                } else if rng.chance(0.25) {
                    0.0
                } else {
                    rng.range(0.8, 1.2)
                }
            })
            .collect();
        let sum: f64 = weights.iter().sum();
        let base = s.budget / active.len() as f64;
        for (i, (month_index, month)) in active.iter().enumerate() {
            let area = area_of_month(&s.areas, s.country, *month_index);
            let mut row = |indicator: &str, people: Option<[i64; 5]>, total: Option<i64>, new: bool, cash: bool| {
                let modality = if people.is_some() {
                    s.modality
                } else if matches!(indicator, "MPC-2") {
                    Some("cash")
                } else if matches!(indicator, "FSC-3" | "SHE-3" | "WASH-3" | "PRO-GBV-3" | "HTR-2") {
                    Some("in_kind")
                } else {
                    None
                };
                let people_total: i64 = people.map_or(0, |p| p.iter().sum());
                out.push(Draft {
                    org: s.org,
                    month: *month_index,
                    slot: index,
                    input: ReportInput {
                        appealing_organisation_id: Some(orgs[s.org].id),
                        implementing_organisation_id: s.implementing,
                        implementing_organisation: None,
                        sector: None,
                        indicator: indicator.into(),
                        country: s.country.into(),
                        admin1_pcode: area.clone(),
                        month: month.format("%Y-%m").to_string(),
                        population_type: s.population.into(),
                        girls: people.map(|p| p[0]),
                        boys: people.map(|p| p[1]),
                        women: people.map(|p| p[2]),
                        men: people.map(|p| p[3]),
                        other: people.map(|p| p[4]),
                        total: total.or(Some(people_total)),
                        new_or_recurring: if new { "new" } else { "recurring" }.into(),
                        modality: modality.map(str::to_string),
                        cash_value_usd: (cash && s.cash_per_person > 0.0)
                            .then(|| (people_total as f64 * s.cash_per_person).round()),
                    },
                });
            };
            let new_people = (s.budget * weights[i] / sum).round() as i64;
            if new_people > 0 {
                row(s.indicator, Some(split(new_people, &s.split)), None, true, true);
            }
            let recurring = if i > 0 { (base * rng.range(1.0, 1.4)).round() as i64 } else { 0 };
            if recurring > 0 {
                row(s.indicator, Some(split(recurring, &s.split)), None, false, true);
            }
            if let Some((other, per_unit)) = s.other_indicator
                && rng.chance(0.45)
            {
                let units = if per_unit > 0.0 {
                    ((new_people + recurring) as f64 / per_unit).round().max(1.0) as i64
                } else {
                    1 + rng.below(4) as i64
                };
                row(other, None, Some(units), true, false);
            }
        }
    }
    out
}

/// A total split into girls, boys, women, men and other.
fn split(total: i64, shares: &[f64; 5]) -> [i64; 5] {
    let part = |i: usize| (total as f64 * shares[i]).floor() as i64;
    let (girls, boys, women, other) = (part(0), part(1), part(2), part(4));
    let men = total - girls - boys - women - other;
    if men < 0 { [girls, boys, women + men, 0, other] } else { [girls, boys, women, men, other] }
}

/// What the pending uploads left.
struct PendingDone {
    rows: usize,
    /// Rows a reviewer returned: id, note, country.
    returned: Vec<(i64, &'static str, String)>,
}

/// The last two months: one upload per organisation and month, flagged as a real upload
/// is (the store's keys and past figures), as of the day the organisation sent it; with
/// outliers, re-sent rows, late reports, and rows to return.
#[allow(clippy::too_many_arguments)]
async fn pending_uploads(
    state: &AppState,
    plan: &Plan,
    orgs: &[Org],
    months: &[NaiveDate],
    pending: Vec<(usize, usize, usize, NewActivityReport)>,
    slots: &[Slot],
    today: NaiveDate,
    rng: &mut Rng,
    accounts: &Accounts,
) -> ApiResult<PendingDone> {
    let mut done = PendingDone { rows: 0, returned: Vec::new() };
    let mut uploads: BTreeMap<(usize, usize), Vec<(usize, NewActivityReport)>> = BTreeMap::new();
    for (org, month, slot, row) in pending {
        uploads.entry((month, org)).or_default().push((slot, row));
    }
    let first_pending = uploads.keys().map(|(m, _)| *m).min().unwrap_or(0);
    let last_pending = uploads.keys().map(|(m, _)| *m).max().unwrap_or(0);
    // Late: a few organisations sent the first pending month well after its deadline.
    let mut late_orgs: Vec<usize> = uploads.keys().filter(|(m, _)| *m == first_pending).map(|(_, o)| *o).collect();
    late_orgs.sort_unstable_by_key(|o| rng_key(*o, 7));
    late_orgs.truncate(3);
    // Outliers: a recurring figure typed 20 to 45 times too large, in the last month, by
    // organisations with a large slot.
    let mut outlier_orgs: Vec<usize> = uploads.keys().filter(|(m, _)| *m == last_pending).map(|(_, o)| *o).collect();
    outlier_orgs.sort_unstable_by_key(|o| rng_key(*o, 11));
    outlier_orgs.truncate(5);
    // Duplicates: organisations that re-sent some rows of the month before with the last one.
    let mut resenders: Vec<usize> = uploads
        .keys()
        .filter(|(m, o)| {
            *m == last_pending && uploads.contains_key(&(first_pending, *o)) && first_pending != last_pending
        })
        .map(|(_, o)| *o)
        .filter(|o| !outlier_orgs.contains(o))
        .collect();
    resenders.sort_unstable_by_key(|o| rng_key(*o, 13));
    resenders.truncate(4);
    let nrc = accounts.partner.user.organisation_id;
    let mut nrc_returned = false;
    let mut other_returned = false;

    let keys: Vec<(usize, usize)> = uploads.keys().copied().collect();
    for (month, org) in keys {
        let o = &orgs[org];
        let mut rows: Vec<NewActivityReport> = uploads[&(month, org)].iter().map(|(_, r)| r.clone()).collect();
        let mut sent = sent_on(months[month], rng, 0.0);
        if month == first_pending && late_orgs.contains(&org) {
            let next = months[month].checked_add_months(Months::new(1)).unwrap_or(months[month]);
            sent = next.with_day(DEADLINE_DAY as u32 + 9).unwrap_or(next);
        }
        sent = sent.min(today);
        if month == last_pending && outlier_orgs.contains(&org) {
            // The largest recurring row of its largest slot.
            let biggest = uploads[&(month, org)]
                .iter()
                .enumerate()
                .filter(|(_, (_, r))| r.new_or_recurring == "recurring")
                .max_by_key(|(_, (slot, r))| (slots[*slot].budget as i64, r.total))
                .map(|(i, _)| i);
            if let Some(i) = biggest {
                let factor = 20 + rng.below(26) as i64;
                let r = &mut rows[i];
                for v in [&mut r.girls, &mut r.boys, &mut r.women, &mut r.men, &mut r.other] {
                    *v *= factor;
                }
                r.total *= factor;
                r.cash_value_usd = r.cash_value_usd.map(|c| c * factor as f64);
            }
        }
        if month == last_pending && resenders.contains(&org) {
            let earlier: Vec<NewActivityReport> = uploads[&(first_pending, org)]
                .iter()
                .map(|(_, r)| r.clone())
                .filter(|r| r.new_or_recurring == "recurring")
                .take(2)
                .collect();
            rows.extend(earlier);
        }
        // What a real upload compares with: the store's rows of this organisation.
        let existing = state.store.activity_report_keys(plan.id, o.id, None).await?;
        let past = state.store.organisation_past_figures(plan.id, o.id).await?;
        reports::raise_flags(&mut rows, DEADLINE_DAY, sent, &existing, &past);
        // Rows to return: the demo partner reporter's (girls and boys swapped) and another's.
        let mut to_return: Option<(usize, &'static str)> = None;
        if month == first_pending && Some(o.id) == nrc && !nrc_returned {
            if let Some(i) = rows.iter().position(|r| {
                r.country_code == "COL" && r.girls > 0 && r.boys > 0 && !r.flag_duplicate && !r.flag_outlier
            }) {
                let r = &mut rows[i];
                r.girls += r.boys;
                r.boys = 0;
                to_return = Some((
                    i,
                    "Girls and boys swapped? All the children are girls and there are no boys, where your earlier \
                     months were about half and half. Please check the figures and send the row again.",
                ));
                nrc_returned = true;
            }
        } else if month == first_pending
            && !other_returned
            && o.kind == OrganisationKind::Nngo
            && o.countries.contains(&"PER")
            && let Some(i) =
                rows.iter().position(|r| r.country_code == "PER" && r.new_or_recurring == "new" && !r.flag_late)
        {
            to_return = Some((
                i,
                "Reported as new, but these people were already reached in earlier months (same activity, same \
                 district)? Please mark them as recurring, or say what is new.",
            ));
            other_returned = true;
        }
        // One file per account that sends it (the partner reporter sends her Colombian rows).
        let mut by_account: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            by_account.entry(accounts.reporter(o.id, nrc, &r.country_code).user.id).or_default().push(i);
        }
        let mut ids_of = vec![0i64; rows.len()];
        for (account, indexes) in by_account {
            let file_name =
                format!("rumbo-activities-{}-{}-{}.xlsx", plan.year, o.acronym, months[month].format("%Y-%m"));
            let upload = NewUpload { organisation_id: o.id, file_name };
            let part: Vec<NewActivityReport> = indexes.iter().map(|i| rows[*i].clone()).collect();
            let who = accounts.by_id(account);
            let (_, ids) = state.store.insert_activity_reports(&who.actor(), plan.id, Some(&upload), &part).await?;
            done.rows += ids.len();
            for (i, id) in indexes.into_iter().zip(ids) {
                ids_of[i] = id;
            }
        }
        if let Some((i, note)) = to_return {
            done.returned.push((ids_of[i], note, rows[i].country_code.clone()));
        }
    }
    Ok(done)
}

/// An order of the organisations that is the same at every start, for picking a few.
fn rng_key(org: usize, salt: u64) -> u64 {
    Rng((org as u64) << 8 ^ salt).next()
}

/// Two uploads refused for their rows, recorded as the upload endpoint records them: one
/// of the demo partner reporter's, one of another organisation.
async fn refused_uploads(
    state: &AppState,
    plan: &Plan,
    orgs: &[Org],
    partner: &Caller,
    admin: &Caller,
    nrc: Option<i64>,
) -> ApiResult<usize> {
    let mut refused = 0;
    if let Some(nrc) = nrc {
        let upload =
            NewUpload { organisation_id: nrc, file_name: format!("rumbo-activities-{}-NRC (1).xlsx", plan.year) };
        let summary = "3 problems: reports!H7: must be a whole number, not `doce`; reports!E9: `CO-BOG` is not an \
                       admin 1 p-code; reports!M11: is 95 but girls, boys, women, men and other add up to 59";
        state.store.record_refused_upload(&partner.actor(), plan.id, &upload, 14, summary).await?;
        refused += 1;
    }
    if let Some(o) = orgs.iter().find(|o| o.kind == OrganisationKind::Nngo && o.countries.contains(&"ECU")) {
        let upload =
            NewUpload { organisation_id: o.id, file_name: format!("5W {} {} final v2.xlsx", o.acronym, plan.year) };
        let summary = format!(
            "2 problems: reports!F3: `{}-13` is not a month (YYYY-MM); reports!G5: `refugiados` is not one of {}",
            plan.year,
            rumbo_store::response::POPULATION_TYPES.join(", ")
        );
        state.store.record_refused_upload(&admin.actor(), plan.id, &upload, 38, &summary).await?;
        refused += 1;
    }
    Ok(refused)
}

/// A filled activity report template: the `reports` sheet (the template's header, then the
/// rows), and the hidden `rumbo` sheet naming the organisation and plan year, as a partner
/// would send it back. For benchmarks and for trying the upload with many rows.
pub fn filled_template(
    year: i32,
    organisation_id: i64,
    organisation: &str,
    rows: &[ReportInput],
) -> ApiResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(format!("filled template: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet().set_name("reports").map_err(fail)?;
    for (c, name) in reports::COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold).map_err(fail)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let at = u32::try_from(i + 1).map_err(|e| internal("filled template", e))?;
        let texts = [
            (0u16, r.implementing_organisation.as_deref()),
            (1, r.sector.as_deref()),
            (2, Some(r.indicator.as_str())),
            (3, Some(r.country.as_str())),
            (4, r.admin1_pcode.as_deref()),
            (5, Some(r.month.as_str())),
            (6, Some(r.population_type.as_str())),
            (13, Some(r.new_or_recurring.as_str())),
            (14, r.modality.as_deref()),
        ];
        for (c, v) in texts {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                sheet.write_string(at, c, v).map_err(fail)?;
            }
        }
        let numbers = [(7u16, r.girls), (8, r.boys), (9, r.women), (10, r.men), (11, r.other), (12, r.total)];
        for (c, v) in numbers {
            if let Some(v) = v {
                sheet.write_number(at, c, v as f64).map_err(fail)?;
            }
        }
        if let Some(cash) = r.cash_value_usd {
            sheet.write_number(at, 15, cash).map_err(fail)?;
        }
    }
    let sheet = book.add_worksheet().set_name("rumbo").map_err(fail)?;
    for (r, (key, value)) in [
        ("kind", "activity_reports".to_string()),
        ("plan_year", year.to_string()),
        ("organisation_id", organisation_id.to_string()),
        ("organisation", organisation.to_string()),
    ]
    .into_iter()
    .enumerate()
    {
        sheet.write_string(r as u32, 0, key).map_err(fail)?;
        sheet.write_string(r as u32, 1, value).map_err(fail)?;
    }
    sheet.set_hidden(true);
    book.save_to_buffer().map_err(fail)
}
