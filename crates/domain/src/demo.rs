//! The demo instance: the 18 countries of the Venezuela response with their admin-1 areas,
//! real flow-monitoring points, organisations, rounds and one user per role.

use chrono::NaiveDate;
use rumbo_store::model::{
    Actor, CountryInput, OrganisationInput, OrganisationKind, Role, RoundInput, RoundStatus, SiteInput, SiteKind,
    UserInput,
};
use rumbo_store::{Store, StoreError};

use crate::boundaries::{AreaIndex, BoundaryOptions, read_boundaries};
use crate::secrets::hash_password;

/// Admin-1 boundaries of the 18 countries (Natural Earth; see `data/boundaries/SOURCES.md`).
pub const ADMIN1_GEOJSON: &str = include_str!("../../../data/boundaries/ne_10m_admin1_lac18.geojson");

/// The password of every demo user unless another is given.
pub const DEFAULT_DEMO_PASSWORD: &str = "rumbo-demo";

/// ISO alpha-3, alpha-2, and the names in English, Spanish and Portuguese.
pub const COUNTRIES: &[(&str, &str, &str, &str, &str)] = &[
    ("ARG", "AR", "Argentina", "Argentina", "Argentina"),
    ("ABW", "AW", "Aruba", "Aruba", "Aruba"),
    ("BOL", "BO", "Bolivia", "Bolivia", "Bolívia"),
    ("BRA", "BR", "Brazil", "Brasil", "Brasil"),
    ("CHL", "CL", "Chile", "Chile", "Chile"),
    ("COL", "CO", "Colombia", "Colombia", "Colômbia"),
    ("CRI", "CR", "Costa Rica", "Costa Rica", "Costa Rica"),
    ("CUW", "CW", "Curaçao", "Curazao", "Curaçao"),
    ("DOM", "DO", "Dominican Republic", "República Dominicana", "República Dominicana"),
    ("ECU", "EC", "Ecuador", "Ecuador", "Equador"),
    ("GUY", "GY", "Guyana", "Guyana", "Guiana"),
    ("MEX", "MX", "Mexico", "México", "México"),
    ("PAN", "PA", "Panama", "Panamá", "Panamá"),
    ("PRY", "PY", "Paraguay", "Paraguay", "Paraguai"),
    ("PER", "PE", "Peru", "Perú", "Peru"),
    ("TTO", "TT", "Trinidad and Tobago", "Trinidad y Tobago", "Trinidad e Tobago"),
    ("URY", "UY", "Uruguay", "Uruguay", "Uruguai"),
    ("VEN", "VE", "Venezuela", "Venezuela", "Venezuela"),
];

use SiteKind::{
    Airport as AIR, BorderCrossing as BC, BusTerminal as BUS, ReceptionCentre as RC, Shelter as SH, SupportSpace as SS,
};

/// Flow-monitoring points and sites named in public response documents, with their
/// approximate coordinates (latitude, longitude; WGS84).
pub const FLOW_MONITORING_POINTS: &[(&str, &str, SiteKind, f64, f64)] = &[
    // Colombia
    ("COL", "Puente Internacional Simón Bolívar (Villa del Rosario)", BC, 7.8196, -72.4528),
    ("COL", "Puente Francisco de Paula Santander (Cúcuta)", BC, 7.8850, -72.4650),
    ("COL", "Puente Atanasio Girardot – Tienditas (Cúcuta)", BC, 7.8650, -72.4470),
    ("COL", "Paraguachón (Maicao)", BC, 11.3560, -72.1300),
    ("COL", "Puente José Antonio Páez (Arauca)", BC, 7.0780, -70.7300),
    ("COL", "Puerto Carreño", BC, 6.1890, -67.4860),
    ("COL", "Puente Internacional de Rumichaca (Ipiales)", BC, 0.8140, -77.6620),
    ("COL", "Necoclí – muelle", SS, 8.4260, -76.7870),
    ("COL", "Terminal de Transportes de Bogotá", BUS, 4.6540, -74.1150),
    ("COL", "Puerto Santander", BC, 8.3620, -72.4070),
    ("COL", "Centro de Atención Integral Maicao", RC, 11.3780, -72.2400),
    // Venezuela
    ("VEN", "San Antonio del Táchira", BC, 7.8150, -72.4440),
    ("VEN", "Ureña", BC, 7.9170, -72.4430),
    ("VEN", "Santa Elena de Uairén", BC, 4.6020, -61.1100),
    ("VEN", "Paraguaipoa (Guajira)", BC, 11.3500, -71.9500),
    ("VEN", "Terminal de Pasajeros La Bandera (Caracas)", BUS, 10.4870, -66.9060),
    // Ecuador
    ("ECU", "CENAF Rumichaca (Tulcán)", BC, 0.8110, -77.6600),
    ("ECU", "CEBAF Huaquillas", BC, -3.4770, -80.2300),
    ("ECU", "Puente Internacional San Miguel (Sucumbíos)", BC, 0.2300, -76.8900),
    ("ECU", "Terminal Terrestre Quitumbe (Quito)", BUS, -0.2970, -78.5560),
    // Peru
    ("PER", "CEBAF Tumbes", BC, -3.5070, -80.2670),
    ("PER", "Complejo Fronterizo Santa Rosa (Tacna)", BC, -18.3150, -70.3260),
    ("PER", "Desaguadero (Puno)", BC, -16.5650, -69.0400),
    ("PER", "Aeropuerto Internacional Jorge Chávez (Lima)", AIR, -12.0220, -77.1140),
    // Bolivia
    ("BOL", "Desaguadero (La Paz)", BC, -16.5690, -69.0440),
    ("BOL", "Pisiga Bolívar", BC, -19.2580, -68.6400),
    // Chile
    ("CHL", "Colchane", BC, -19.2760, -68.6390),
    ("CHL", "Complejo Fronterizo Chacalluta (Arica)", BC, -18.3490, -70.3200),
    ("CHL", "Aeropuerto Arturo Merino Benítez (Santiago)", AIR, -33.3930, -70.7860),
    // Brazil
    ("BRA", "Pacaraima – Posto de Recepção e Identificação", BC, 4.4800, -61.1470),
    ("BRA", "Posto de Interiorização e Triagem (Boa Vista)", RC, 2.8200, -60.6720),
    ("BRA", "Rodoviária de Manaus", BUS, -3.0930, -60.0230),
    ("BRA", "Assis Brasil", BC, -10.9420, -69.5670),
    // Panama
    ("PAN", "Estación de Recepción Migratoria Lajas Blancas (Darién)", RC, 8.2660, -77.8130),
    ("PAN", "Estación de Recepción Migratoria San Vicente (Metetí)", RC, 8.4980, -77.9770),
    ("PAN", "Bajo Chiquito (Darién)", SS, 8.0300, -77.5200),
    ("PAN", "Paso Canoas (Chiriquí)", BC, 8.5320, -82.8380),
    ("PAN", "Estación de Recepción Migratoria Los Planes de Gualaca", RC, 8.5270, -82.2830),
    // Costa Rica
    ("CRI", "Paso Canoas (Corredores)", BC, 8.5340, -82.8400),
    ("CRI", "Peñas Blancas (La Cruz)", BC, 11.2180, -85.6110),
    ("CRI", "Los Chiles", BC, 11.0330, -84.7140),
    // Mexico
    ("MEX", "Tapachula", SS, 14.9060, -92.2630),
    ("MEX", "Ciudad Hidalgo – Puente Rodolfo Robles", BC, 14.6800, -92.1500),
    ("MEX", "Ciudad Juárez – Paso del Norte", BC, 31.7480, -106.4870),
    ("MEX", "Tijuana – El Chaparral", BC, 32.5420, -117.0290),
    // Argentina
    ("ARG", "La Quiaca", BC, -22.1050, -65.5970),
    ("ARG", "Aeropuerto Internacional de Ezeiza", AIR, -34.8220, -58.5360),
    // Uruguay
    ("URY", "Chuy", BC, -33.6970, -53.4560),
    ("URY", "Rivera", BC, -30.9020, -55.5500),
    // Paraguay
    ("PRY", "Puente de la Amistad (Ciudad del Este)", BC, -25.5090, -54.6020),
    // Dominican Republic
    ("DOM", "Aeropuerto Internacional Las Américas (Santo Domingo)", AIR, 18.4300, -69.6690),
    // Trinidad and Tobago
    ("TTO", "Cedros", BC, 10.0840, -61.8510),
    ("TTO", "Chaguaramas", BC, 10.6800, -61.6400),
    // Guyana
    ("GUY", "Mabaruma", BC, 8.2000, -59.7830),
    ("GUY", "Lethem", BC, 3.3800, -59.8000),
    // Aruba and Curaçao
    ("ABW", "Oranjestad", SH, 12.5190, -70.0370),
    ("CUW", "Willemstad", SH, 12.1090, -68.9310),
];

/// Organisations: name, acronym, kind.
pub const ORGANISATIONS: &[(&str, &str, OrganisationKind)] = &[
    ("International Organization for Migration", "IOM", OrganisationKind::UnAgency),
    ("United Nations High Commissioner for Refugees", "UNHCR", OrganisationKind::UnAgency),
    ("United Nations Children's Fund", "UNICEF", OrganisationKind::UnAgency),
    ("World Food Programme", "WFP", OrganisationKind::UnAgency),
    ("Norwegian Refugee Council", "NRC", OrganisationKind::Ingo),
    ("HIAS", "HIAS", OrganisationKind::Ingo),
    ("Save the Children", "SC", OrganisationKind::Ingo),
    ("Danish Refugee Council", "DRC", OrganisationKind::Ingo),
    ("Cruz Roja Colombiana", "CRC", OrganisationKind::RedCross),
    ("Migración Colombia", "UAEMC", OrganisationKind::Government),
    ("Fundación Halü Bienestar Humano", "Halü", OrganisationKind::Nngo),
];

/// A day as (year, month, day).
pub type YearMonthDay = (i32, u32, u32);

/// The demo's rounds of data collection, the same in every country: name, first and
/// last day. All are closed but the last, which is open.
pub const DEMO_ROUNDS: [(&str, YearMonthDay, YearMonthDay); 6] = [
    ("Ronda 1 – 2025", (2025, 1, 15), (2025, 3, 15)),
    ("Ronda 2 – 2025", (2025, 5, 1), (2025, 6, 30)),
    ("Ronda 3 – 2025", (2025, 10, 1), (2025, 12, 15)),
    ("Ronda 1 – 2026", (2026, 1, 15), (2026, 3, 15)),
    ("Ronda 2 – 2026", (2026, 5, 1), (2026, 6, 30)),
    ("Ronda 3 – 2026", (2026, 10, 1), (2026, 12, 15)),
];

/// What the demo created, for the summary printed on start.
#[derive(Debug, Default)]
pub struct DemoSummary {
    pub countries: usize,
    pub admin_areas: usize,
    pub sites: usize,
    pub sites_located: usize,
    pub rounds: usize,
    pub organisations: usize,
    pub users: Vec<(String, String)>,
}

/// Creates (or renames) the 18 countries of the response; returns how many.
pub async fn load_countries(store: &Store, actor: &Actor) -> Result<usize, StoreError> {
    for (code, iso2, en, es, pt) in COUNTRIES {
        let input = CountryInput {
            code: (*code).into(),
            iso2: (*iso2).into(),
            name_en: (*en).into(),
            name_es: (*es).into(),
            name_pt: (*pt).into(),
        };
        store.upsert_country(actor, &input).await?;
    }
    Ok(COUNTRIES.len())
}

/// Fills an empty store with the demo instance.
pub async fn seed(store: &Store, password: &str) -> Result<DemoSummary, StoreError> {
    let actor = Actor::system("demo");
    let mut summary = DemoSummary { countries: load_countries(store, &actor).await?, ..Default::default() };

    let areas =
        read_boundaries(ADMIN1_GEOJSON, &BoundaryOptions { level: Some(1), dissolve: true, ..Default::default() })
            .map_err(StoreError::Invalid)?;
    summary.admin_areas = store.import_admin_areas(&actor, &areas, false).await?.created;

    let mut counters = std::collections::HashMap::<&str, usize>::new();
    let mut index_by_country = std::collections::HashMap::new();
    for (country, name, kind, lat, lon) in FLOW_MONITORING_POINTS {
        if !index_by_country.contains_key(country) {
            index_by_country.insert(*country, AreaIndex::new(&store.area_shapes(country, 1).await?));
        }
        let n = counters.entry(country).or_default();
        *n += 1;
        let admin_area_pcode = index_by_country[country].locate(*lon, *lat).map(str::to_string);
        summary.sites_located += usize::from(admin_area_pcode.is_some());
        store
            .create_site(
                &actor,
                &SiteInput {
                    country_code: (*country).into(),
                    code: format!("{country}-FMP-{n:03}"),
                    name: (*name).into(),
                    kind: *kind,
                    latitude: *lat,
                    longitude: *lon,
                    admin_area_pcode,
                    active: true,
                },
            )
            .await?;
        summary.sites += 1;
    }

    let date = |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    for (code, ..) in COUNTRIES {
        for (index, (name, start, end)) in DEMO_ROUNDS.into_iter().enumerate() {
            let status = if index + 1 == DEMO_ROUNDS.len() { RoundStatus::Open } else { RoundStatus::Closed };
            let (start, end) = (date(start), date(end));
            store
                .create_round(
                    &actor,
                    &RoundInput {
                        country_code: (*code).into(),
                        name: name.into(),
                        starts_on: start,
                        ends_on: end,
                        status,
                    },
                )
                .await?;
            summary.rounds += 1;
        }
    }

    let mut partner = None;
    for (name, acronym, kind) in ORGANISATIONS {
        let org = store
            .save_organisation(
                &actor,
                None,
                &OrganisationInput { name: (*name).into(), acronym: (*acronym).into(), kind: *kind },
            )
            .await?;
        if *acronym == "NRC" {
            partner = Some(org.id);
        }
        summary.organisations += 1;
    }
    crate::demo_services::load(store, &actor).await?;

    let hash = hash_password(password);
    let andean = ["COL", "VEN", "ECU", "PER"].map(String::from).to_vec();
    let colombia = vec!["COL".to_string()];
    // role, full name, every country, countries, organisation
    type DemoUser<'a> = (Role, &'a str, bool, Vec<String>, Option<i64>);
    let users: [DemoUser; 7] = [
        (Role::Admin, "Regional administrator", true, vec![], None),
        (Role::ImOfficer, "Information-management officer (Andean countries)", false, andean, None),
        (Role::Enumerator, "Enumerator, Cúcuta", false, colombia.clone(), None),
        (Role::Caseworker, "Protection caseworker, Colombia", false, colombia.clone(), None),
        (Role::ProtectionFocalPoint, "PSEA focal point, Colombia", false, colombia.clone(), None),
        (Role::PartnerReporter, "Partner reporter (NRC Colombia)", false, colombia, partner),
        (Role::Viewer, "Regional viewer", true, vec![], None),
    ];
    for (role, display_name, all_countries, countries, organisation_id) in users {
        store
            .save_user(
                &actor,
                None,
                &UserInput {
                    username: role.as_str().into(),
                    display_name: display_name.into(),
                    role,
                    organisation_id,
                    all_countries,
                    countries,
                    active: true,
                },
                Some(&hash),
            )
            .await?;
        summary.users.push((role.as_str().into(), display_name.into()));
    }
    Ok(summary)
}
