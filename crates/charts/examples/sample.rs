//! Writes a page with every kind of chart to /tmp/charts-sample.html (or the path given), to
//! look at them in a browser:
//!
//! ```sh
//! cargo run -p rumbo-charts --example sample
//! chromium --headless --no-sandbox --disable-gpu --screenshot=/tmp/charts.png \
//!     --window-size=1200,1600 file:///tmp/charts-sample.html
//! ```

use std::fmt::Write as _;

use rumbo_charts::{Area, Bar, Flow, Format, Locale, MapLayers, Point, Series, bars, lines, map, pyramid};

/// A small deterministic pseudo-random sequence, so the page is the same every run.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn nationality() -> Vec<Bar> {
    let rows = [
        ("Venezuela", 0.634, 0.031, 1204),
        ("Colombia", 0.182, 0.022, 346),
        ("Ecuador", 0.071, 0.015, 135),
        ("Haití", 0.048, 0.012, 91),
        ("Perú", 0.031, 0.01, 59),
    ];
    let mut out: Vec<Bar> = rows
        .iter()
        .map(|&(label, v, e, n)| Bar {
            label: label.into(),
            value: Some(v),
            low: Some(v - e),
            high: Some(v + e),
            href: Some(format!("?nacionalidad={label}")),
            note: Some(format!("n = {n}")),
        })
        .collect();
    out.push(Bar { note: Some("n = 4".into()), ..Bar::new("Cuba", None) });
    out
}

fn needs() -> Vec<Bar> {
    [
        ("Alimentación", 8412.0),
        ("Alojamiento temporal", 6120.0),
        ("Empleo y medios de vida", 5377.0),
        ("Acceso a salud", 3980.0),
        ("Documentación y regularización migratoria", 2761.0),
        ("Educación", 1202.0),
        ("Agua, saneamiento e higiene", 948.0),
    ]
    .iter()
    .map(|&(l, v)| Bar::new(l, Some(v)))
    .collect()
}

fn daily() -> (Vec<String>, Vec<Series>) {
    let mut noise = Noise(7);
    let days: Vec<String> = (0..90)
        .map(|i| {
            let (month, day) = if i < 31 {
                ("01", i + 1)
            } else if i < 59 {
                ("02", i - 30)
            } else {
                ("03", i - 58)
            };
            format!("2025-{month}-{day:02}")
        })
        .collect();
    let entries: Vec<Option<f64>> = (0..90)
        .map(|i| {
            if (40..44).contains(&i) {
                None
            } else {
                Some(1800.0 + 600.0 * (f64::from(i) / 9.0).sin() + 400.0 * noise.next() + f64::from(i) * 8.0)
            }
        })
        .collect();
    let exits: Vec<Option<f64>> = (0..90)
        .map(|i| if (40..44).contains(&i) { None } else { Some(900.0 + 300.0 * noise.next() + f64::from(i) * 4.0) })
        .collect();
    (days, vec![Series { name: "Entradas".into(), values: entries }, Series { name: "Salidas".into(), values: exits }])
}

fn rounds() -> (Vec<String>, Vec<Series>) {
    let x: Vec<String> = (1..=8).map(|r| format!("Round {r}")).collect();
    let s = |name: &str, v: [f64; 8]| Series { name: name.into(), values: v.iter().map(|&v| Some(v)).collect() };
    (
        x,
        vec![
            s("Food", [0.62, 0.58, 0.6, 0.55, 0.51, 0.49, 0.47, 0.44]),
            s("Shelter", [0.41, 0.44, 0.43, 0.47, 0.5, 0.48, 0.52, 0.55]),
            Series {
                name: "Health".into(),
                values: vec![Some(0.22), Some(0.25), None, Some(0.29), Some(0.3), Some(0.28), Some(0.31), Some(0.33)],
            },
        ],
    )
}

/// A made-up country: a grid of provinces with jittered shared corners, minus a few cells.
fn provinces() -> Vec<Area> {
    const COLS: usize = 7;
    const ROWS: usize = 5;
    let mut noise = Noise(42);
    let (cell_w, cell_h, left, top) = (78.0, 70.0, 20.0, 18.0);
    let corners: Vec<Vec<(f64, f64)>> = (0..=ROWS)
        .map(|r| {
            (0..=COLS)
                .map(|c| {
                    let edge = r == 0 || c == 0 || r == ROWS || c == COLS;
                    let j = if edge { 10.0 } else { 22.0 };
                    (
                        left + c as f64 * cell_w + (noise.next() - 0.5) * j,
                        top + r as f64 * cell_h + (noise.next() - 0.5) * j,
                    )
                })
                .collect()
        })
        .collect();
    let skip = [(0, 0), (0, 6), (4, 0), (4, 1), (3, 0), (0, 5), (4, 6)];
    let names = [
        "Arauca",
        "Boyacá",
        "Casanare",
        "Cesar",
        "Chocó",
        "Cundinamarca",
        "Guainía",
        "Huila",
        "La Guajira",
        "Magdalena",
        "Meta",
        "Nariño",
        "Norte de Santander",
        "Putumayo",
        "Quindío",
        "Risaralda",
        "Santander",
        "Sucre",
        "Tolima",
        "Valle del Cauca",
        "Vaupés",
        "Vichada",
        "Antioquia",
        "Atlántico",
        "Bolívar",
        "Caldas",
        "Caquetá",
        "Cauca",
    ];
    let mut out = Vec::new();
    for r in 0..ROWS {
        for c in 0..COLS {
            if skip.contains(&(r, c)) {
                continue;
            }
            let p = [corners[r][c], corners[r][c + 1], corners[r + 1][c + 1], corners[r + 1][c]];
            let mut d = String::new();
            for (k, (x, y)) in p.iter().enumerate() {
                let _ = write!(d, "{}{x:.1} {y:.1}", if k == 0 { 'M' } else { 'L' });
            }
            d.push('Z');
            let i = out.len();
            let value = if i == 9 || i == 17 { None } else { Some((noise.next().powi(2) * 40_000.0).round() + 150.0) };
            out.push(Area {
                code: format!("CO{:02}", i + 1),
                name: names[i % names.len()].into(),
                d,
                value,
                href: Some(format!("?admin1=CO{:02}", i + 1)),
            });
        }
    }
    out
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "/tmp/charts-sample.html".into());
    let es = Locale::for_lang("es");
    let en = Locale::for_lang("en");
    let pt = Locale::for_lang("pt");
    let (days, daily) = daily();
    let (round_x, round_series) = rounds();
    let groups: Vec<String> = ["0–4", "5–11", "12–17", "18–24", "25–59", "60+"].iter().map(|&g| g.to_owned()).collect();
    let female = [Some(0.061), Some(0.072), Some(0.043), Some(0.081), Some(0.198), Some(0.021)];
    let male = [Some(0.058), Some(0.069), Some(0.047), Some(0.092), Some(0.236), None];
    let areas = provinces();
    let points = [
        Point { name: "Cúcuta (PMF-01)".into(), x: 330.0, y: 120.0, value: 12_840.0, href: Some("?pmf=01".into()) },
        Point { name: "Arauca (PMF-02)".into(), x: 430.0, y: 160.0, value: 3_120.0, href: None },
        Point { name: "Maicao (PMF-03)".into(), x: 300.0, y: 40.0, value: 6_410.0, href: None },
        Point { name: "Ipiales (PMF-04)".into(), x: 150.0, y: 330.0, value: 9_880.0, href: None },
        Point { name: "Puerto Carreño (PMF-05)".into(), x: 520.0, y: 210.0, value: 640.0, href: None },
    ];
    let flows = [
        Flow { from: (330.0, 120.0), to: (150.0, 330.0), value: 8_200.0, label: "Cúcuta → Ipiales".into() },
        Flow { from: (300.0, 40.0), to: (330.0, 120.0), value: 2_100.0, label: "Maicao → Cúcuta".into() },
        Flow { from: (430.0, 160.0), to: (250.0, 200.0), value: 1_300.0, label: "Arauca → Bogotá".into() },
    ];
    let layers = MapLayers {
        width: 580.0,
        height: 380.0,
        areas: &areas,
        points: &points,
        flows: &flows,
        legend_title: "Personas refugiadas y migrantes",
        points_title: "Flujo diario por punto de monitoreo",
    };

    let cards = [
        ("Nacionalidad (porcentaje, IC 95 %)", bars("Nacionalidad", &nationality(), Format::Percent, &es)),
        ("Necesidades prioritarias (hogares)", bars("Necesidades prioritarias", &needs(), Format::Count, &es)),
        ("Entradas y salidas diarias", lines("Entradas y salidas diarias", &days, &daily, Format::Count, &es)),
        (
            "Needs by round (share of households)",
            lines("Needs by round", &round_x, &round_series, Format::Percent, &en),
        ),
        (
            "Pirâmide populacional",
            pyramid("Pirâmide populacional", &groups, &female, &male, ("Mulheres", "Homens"), Format::Percent, &pt),
        ),
        ("Mapa: personas por departamento", map("Personas por departamento", &layers, Format::Count, &es)),
        ("Sin datos", bars("Sin datos", &[], Format::Count, &es)),
    ];
    let mut html = String::from(
        r#"<!doctype html><html lang="es"><meta charset="utf-8"><title>Rumbo charts</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:24px;color:#222;background:#f4f5f7}
main{display:grid;grid-template-columns:1fr 1fr;gap:20px;max-width:1160px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:14px 16px}
h2{font-size:15px;font-weight:600;margin:0 0 10px}
.chart-row:hover .chart-hit,.chart-female:hover .chart-hit,.chart-male:hover .chart-hit{fill:#eef2f7}
.chart-link:focus{outline:2px solid #1f4e79}
.chart-link:hover .map-area{opacity:.85}
</style><main>"#,
    );
    for (heading, svg) in &cards {
        let _ = write!(html, "<section><h2>{heading}</h2>{svg}</section>");
    }
    html.push_str("</main></html>\n");
    std::fs::write(&path, html).expect("write the sample page");
    println!("{path}");
}
