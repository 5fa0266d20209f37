//! Writes a sample report as `sample.pdf` and `sample.html` in the current folder:
//! `cargo run -p rumbo-report --example sample`.

use rumbo_report::{Chart, Fact, KeyFigure, Report, Section, Table, to_html, to_pdf};

fn main() {
    let bars = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 160" font-family="inherit" font-size="12"><rect x="120" y="10" width="400" height="24" fill="#0b5394"/><text x="10" y="27">Arauca</text><rect x="120" y="50" width="250" height="24" fill="#0b5394"/><text x="10" y="67">Norte de Santander</text></svg>"##;
    let report = Report {
        title: "Colombia — Ronda 3 – 2025".into(),
        subtitle: "Monitoreo de flujos y encuesta de flujos, 1 oct. – 15 dic. 2025".into(),
        lang: "es".into(),
        generated_at: "2026-05-14 10:32 UTC".into(),
        figures: vec![
            KeyFigure::new("Personas observadas en los puntos", "12.345", "n = 412"),
            KeyFigure::new("Piensa quedarse en el país", "63,4\u{a0}%", "IC 95 % 61,0 %–66,0 % · n = 1.204"),
            KeyFigure::new("Personas entrevistadas", "1.204", "n = 1.204"),
            KeyFigure::new("Flujo estimado", "2.010", "n = 98"),
        ],
        sections: vec![
            Section {
                heading: "Flujos".into(),
                intro: Some("Personas observadas por área.".into()),
                charts: vec![Chart {
                    title: "Personas por departamento".into(),
                    svg: bars.into(),
                    note: Some("n = 412".into()),
                }],
                table: Some(Table {
                    caption: "Personas por departamento".into(),
                    headers: vec!["Departamento".into(), "Personas".into(), "n".into()],
                    rows: vec![
                        vec!["Arauca".into(), "8.000".into(), "200".into()],
                        vec!["Norte de Santander".into(), "4.345".into(), "212".into()],
                    ],
                    note: Some("1 celda suprimida".into()),
                }),
            },
            Section {
                heading: "Necesidades".into(),
                table: Some(Table {
                    caption: "Necesidades — por área de nivel 1".into(),
                    headers: [
                        "Área de nivel 1",
                        "Alimentos",
                        "Agua potable",
                        "Alojamiento",
                        "Atención en salud",
                        "Documentación o regularización",
                        "Empleo",
                        "Información",
                        "Dinero en efectivo",
                        "Transporte",
                    ]
                    .map(String::from)
                    .to_vec(),
                    rows: vec![
                        [
                            "Norte de Santander",
                            "64,0\u{a0}%",
                            "19,1\u{a0}%",
                            "40,2\u{a0}%",
                            "19,6\u{a0}%",
                            "23,9\u{a0}%",
                            "35,3\u{a0}%",
                            "26,6\u{a0}%",
                            "41,5\u{a0}%",
                            "20,4\u{a0}%",
                        ]
                        .map(String::from)
                        .to_vec(),
                        [
                            "Total",
                            "64,0\u{a0}%",
                            "19,1\u{a0}%",
                            "40,2\u{a0}%",
                            "19,6\u{a0}%",
                            "23,9\u{a0}%",
                            "35,3\u{a0}%",
                            "26,6\u{a0}%",
                            "41,5\u{a0}%",
                            "20,4\u{a0}%",
                        ]
                        .map(String::from)
                        .to_vec(),
                    ],
                    note: None,
                }),
                ..Section::default()
            },
        ],
        map: Some(Chart { title: "Mapa".into(), svg: bars.into(), note: None }),
        methodology: vec!["Los conteos del registro se suman por punto y día.".into()],
        sources: vec![Fact::new("Formularios", "rumbo_fmr, rumbo_fms"), Fact::new("Envíos", "1.616")],
        disclosure: "Las celdas con menos de 5 respuestas se suprimen.".into(),
        ..Report::default()
    };
    std::fs::write("sample.pdf", to_pdf(&report).expect("typeset")).expect("write sample.pdf");
    std::fs::write("sample.html", to_html(&report)).expect("write sample.html");
}
