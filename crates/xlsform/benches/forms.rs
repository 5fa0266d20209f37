//! How fast forms are read and submissions checked.
//!
//! `cargo bench -p rumbo-xlsform --bench forms`: a flow-monitoring form of
//! about sixty questions (with a household repeat, group counts, relevance
//! and constraints) validating a complete submission as XML and as JSON,
//! typical expressions parsed and evaluated, and the largest corpus form read.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rumbo_xlsform::xpath::{self, Env, Instance};
use rumbo_xlsform::{Validator, read_form};

const CORPUS_FORM: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/xlsform-corpus/humanitarian/reach_lbn_msna_2022_kobo_tool.xlsx");

/// Columns: type, name, label, required, relevant, constraint, calculation, repeat_count, sensitive.
const SURVEY: &[[&str; 9]] = &[
    ["start", "start", "", "", "", "", "", "", ""],
    ["end", "end", "", "", "", "", "", "", ""],
    ["today", "today", "", "", "", "", "", "", ""],
    ["select_one enumerator", "enumerator", "Enumerator", "yes", "", "", "", "", ""],
    ["date", "survey_date", "Date of interview", "yes", "", ". <= today()", "", "", ""],
    ["select_one fmp", "fmp", "Flow monitoring point", "yes", "", "", "", "", ""],
    ["select_one direction", "direction", "Direction of travel", "yes", "", "", "", "", ""],
    ["select_one yn", "consent", "Does the respondent agree to the interview?", "yes", "", "", "", "", ""],
    ["begin group", "respondent", "Respondent", "", "${consent} = 'yes'", "", "", "", ""],
    ["select_one country", "nationality", "Nationality", "yes", "", "", "", "", ""],
    ["select_one sex", "sex", "Sex", "yes", "", "", "", "", ""],
    ["integer", "age", "Age", "yes", "", ". >= 14 and . < 100", "", "", ""],
    ["text", "phone", "Phone number", "", "", "", "", "", "yes"],
    ["end group", "", "", "", "", "", "", "", ""],
    ["begin group", "group_comp", "Travelling group", "", "${consent} = 'yes'", "", "", "", ""],
    ["integer", "men", "Men", "yes", "", ". >= 0 and . < 50", "", "", ""],
    ["integer", "women", "Women", "yes", "", ". >= 0 and . < 50", "", "", ""],
    ["integer", "boys", "Boys", "yes", "", ". >= 0 and . < 50", "", "", ""],
    ["integer", "girls", "Girls", "yes", "", ". >= 0 and . < 50", "", "", ""],
    ["calculate", "total", "", "", "", "", "${men} + ${women} + ${boys} + ${girls}", "", ""],
    ["note", "total_note", "The group has ${total} people", "", "", "", "", "", ""],
    ["integer", "hh_size", "Household members travelling", "yes", "", ". >= 1 and . <= ${total}", "", "", ""],
    ["end group", "", "", "", "", "", "", "", ""],
    ["begin repeat", "household", "Member", "", "${consent} = 'yes'", "", "", "${hh_size}", ""],
    ["select_one sex", "m_sex", "Sex", "yes", "", "", "", "", ""],
    ["integer", "m_age", "Age", "yes", "", ". >= 0 and . < 110", "", "", ""],
    ["select_one relation", "m_relation", "Relation to respondent", "yes", "", "", "", "", ""],
    ["select_one yn", "m_disability", "Disability", "yes", "", "", "", "", ""],
    ["select_one yn", "m_school", "Attends school", "yes", "${m_age} >= 5 and ${m_age} < 18", "", "", "", ""],
    ["calculate", "m_child", "", "", "", "", "if(${m_age} < 18, 1, 0)", "", ""],
    ["end repeat", "", "", "", "", "", "", "", ""],
    ["calculate", "children", "", "", "", "", "sum(${m_child})", "", ""],
    ["select_one country", "origin_country", "Country of departure", "yes", "", "", "", "", ""],
    ["text", "origin_city", "City of departure", "", "", "", "", "", ""],
    ["select_one country", "destination_country", "Intended destination", "yes", "", "", "", "", ""],
    ["text", "destination_city", "Destination city", "", "", "", "", "", ""],
    ["select_one transport", "transport", "Means of transport", "yes", "", "", "", "", ""],
    ["text", "transport_other", "Other means", "yes", "${transport} = 'other'", "", "", "", ""],
    ["select_one reason", "reason", "Main reason for travel", "yes", "", "", "", "", ""],
    ["text", "reason_other", "Other reason", "yes", "${reason} = 'other'", "", "", "", ""],
    ["integer", "days_travel", "Days travelling", "yes", "", ". >= 0 and . < 365", "", "", ""],
    ["decimal", "cost", "Cost of the journey", "", "", ". >= 0", "", "", ""],
    ["select_one currency", "currency", "Currency", "yes", "${cost} > 0", "", "", "", ""],
    [
        "select_multiple needs",
        "needs",
        "Most urgent needs",
        "yes",
        "",
        "not(selected(., 'none') and count-selected(.) > 1)",
        "",
        "",
        "",
    ],
    ["text", "needs_other", "Other needs", "yes", "selected(${needs}, 'other')", "", "", "", ""],
    ["select_one yn", "assistance", "Received assistance", "yes", "", "", "", "", ""],
    ["select_multiple assist", "assist_type", "Assistance received", "yes", "${assistance} = 'yes'", "", "", "", ""],
    ["select_one yn", "documents", "Travels with identity documents", "yes", "", "", "", "", ""],
    ["select_multiple doc", "doc_type", "Documents", "yes", "${documents} = 'yes'", "", "", "", ""],
    ["select_one yn", "vulnerable", "Vulnerable members", "yes", "", "", "", "", ""],
    ["select_multiple vuln", "vuln_type", "Vulnerabilities", "yes", "${vulnerable} = 'yes'", "", "", "", ""],
    ["select_one yn", "return_intent", "Intends to return", "yes", "", "", "", "", ""],
    ["integer", "return_months", "In how many months", "", "${return_intent} = 'yes'", ". > 0", "", "", ""],
    ["select_one yn", "incidents", "Incidents on the way", "yes", "", "", "", "", ""],
    ["select_multiple incident", "incident_type", "Incidents", "yes", "${incidents} = 'yes'", "", "", "", ""],
    ["select_one yn", "health", "Health problems", "yes", "", "", "", "", ""],
    ["text", "health_detail", "Details", "", "${health} = 'yes'", "", "", "", ""],
    ["select_one yn", "previous", "Travelled this route before", "yes", "", "", "", "", ""],
    ["integer", "previous_times", "How many times", "yes", "${previous} = 'yes'", ". > 0 and . < 100", "", "", ""],
    ["geopoint", "location", "Location", "", "", "", "", "", ""],
    ["text", "comments", "Comments", "", "", "", "", "", ""],
    ["note", "thanks", "Thank the respondent", "", "", "", "", "", ""],
];

const CHOICES: &[(&str, &[&str])] = &[
    ("enumerator", &["e01", "e02", "e03", "e04", "e05", "e06"]),
    ("fmp", &["fmp_north", "fmp_south", "fmp_bridge", "fmp_bus", "fmp_port", "fmp_airport", "fmp_market"]),
    ("direction", &["incoming", "outgoing", "transit"]),
    ("yn", &["yes", "no", "dk"]),
    ("country", &["ven", "col", "ecu", "per", "bra", "chl", "arg", "bol", "pan", "usa", "other"]),
    ("sex", &["female", "male"]),
    ("relation", &["head", "spouse", "child", "parent", "sibling", "other_relative", "none"]),
    ("transport", &["foot", "bus", "car", "truck", "boat", "plane", "other"]),
    ("reason", &["economic", "conflict", "family", "health", "education", "tourism", "other"]),
    ("currency", &["usd", "cop", "ves", "pen"]),
    ("needs", &["food", "water", "shelter", "health", "documents", "information", "transport", "other", "none"]),
    ("assist", &["food", "cash", "shelter", "health", "legal", "information"]),
    ("doc", &["passport", "id_card", "birth_certificate", "permit"]),
    ("vuln", &["pregnant", "disability", "chronic_illness", "unaccompanied_child", "elderly"]),
    ("incident", &["robbery", "violence", "extortion", "detention", "other"]),
];

fn flow_monitoring_form() -> String {
    let mut md = String::from(
        "| survey |\n\
         | | type | name | label | required | relevant | constraint | calculation | repeat_count | sensitive |\n",
    );
    for row in SURVEY {
        md.push_str("| | ");
        md.push_str(&row.join(" | "));
        md.push_str(" |\n");
    }
    md.push_str("| choices |\n| | list_name | name | label |\n");
    for (list, names) in CHOICES {
        for name in *names {
            let _ = writeln!(md, "| | {list} | {name} | {name} |");
        }
    }
    md.push_str("| settings |\n| | form_id | version |\n| | flow_monitoring | 2025-01 |\n");
    md
}

const SUBMISSION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="flow_monitoring" version="2025-01">
  <start>2025-03-14T09:12:03.118-05:00</start>
  <end>2025-03-14T09:31:44.502-05:00</end>
  <today>2025-03-14</today>
  <enumerator>e03</enumerator>
  <survey_date>2025-03-14</survey_date>
  <fmp>fmp_bridge</fmp>
  <direction>incoming</direction>
  <consent>yes</consent>
  <respondent>
    <nationality>ven</nationality>
    <sex>female</sex>
    <age>34</age>
    <phone>+58 412 555 0199</phone>
  </respondent>
  <group_comp>
    <men>1</men>
    <women>1</women>
    <boys>1</boys>
    <girls>0</girls>
    <total>3</total>
    <total_note/>
    <hh_size>3</hh_size>
  </group_comp>
  <household>
    <m_sex>female</m_sex>
    <m_age>34</m_age>
    <m_relation>head</m_relation>
    <m_disability>no</m_disability>
    <m_school/>
    <m_child>0</m_child>
  </household>
  <household>
    <m_sex>male</m_sex>
    <m_age>37</m_age>
    <m_relation>spouse</m_relation>
    <m_disability>no</m_disability>
    <m_school/>
    <m_child>0</m_child>
  </household>
  <household>
    <m_sex>male</m_sex>
    <m_age>9</m_age>
    <m_relation>child</m_relation>
    <m_disability>no</m_disability>
    <m_school>yes</m_school>
    <m_child>1</m_child>
  </household>
  <children>1</children>
  <origin_country>ven</origin_country>
  <origin_city>Maracaibo</origin_city>
  <destination_country>per</destination_country>
  <destination_city>Lima</destination_city>
  <transport>bus</transport>
  <transport_other/>
  <reason>economic</reason>
  <reason_other/>
  <days_travel>12</days_travel>
  <cost>180.50</cost>
  <currency>usd</currency>
  <needs>food water documents</needs>
  <needs_other/>
  <assistance>yes</assistance>
  <assist_type>food information</assist_type>
  <documents>yes</documents>
  <doc_type>id_card birth_certificate</doc_type>
  <vulnerable>no</vulnerable>
  <vuln_type/>
  <return_intent>no</return_intent>
  <return_months/>
  <incidents>no</incidents>
  <incident_type/>
  <health>no</health>
  <health_detail/>
  <previous>no</previous>
  <previous_times/>
  <location>7.8939 -72.5078 310.2 4.5</location>
  <comments>Travelling with relatives; waiting for the bus to Ipiales.</comments>
  <thanks/>
  <meta>
    <instanceID>uuid:1f0b7a6e-52c1-4d7e-9b0a-6f2d8c3e4a51</instanceID>
  </meta>
</data>
"#;

fn validation(c: &mut Criterion) {
    let form = read_form(flow_monitoring_form().as_bytes(), Some("flow_monitoring.md")).expect("the bench form reads");
    let questions = form.walk().iter().filter(|(_, field)| !field.is_group()).count();
    let validator = Validator::new(&form);
    let validated = validator.validate_xml(SUBMISSION).expect("the submission reads");
    assert!(validated.is_valid(), "{:?}", validated.errors);
    let json = validated.record.clone();
    let from_json = validator.validate_json(&json).expect("the JSON reads");
    assert!(from_json.is_valid(), "{:?}", from_json.errors);

    // A plain timed loop, for a figure to quote.
    let iterations = 20_000;
    let started = Instant::now();
    for _ in 0..iterations {
        black_box(validator.validate_xml(black_box(SUBMISSION)).expect("reads"));
    }
    let elapsed = started.elapsed();
    println!(
        "form of {questions} questions, submission of {} bytes: {:.1} µs each; submissions validated per second: {:.0}",
        SUBMISSION.len(),
        elapsed.as_secs_f64() * 1e6 / f64::from(iterations),
        f64::from(iterations) / elapsed.as_secs_f64()
    );

    let mut group = c.benchmark_group("validate");
    group.measurement_time(Duration::from_secs(3)).sample_size(20);
    group.bench_function("validator_new", |b| b.iter(|| Validator::new(black_box(&form))));
    group.bench_function("validate_xml", |b| b.iter(|| validator.validate_xml(black_box(SUBMISSION))));
    group.bench_function("validate_json", |b| b.iter(|| validator.validate_json(black_box(&json))));
    group.finish();
}

const EXPRESSIONS: &[&str] = &[
    ". >= 14 and . < 100",
    "${consent} = 'yes'",
    "${men} + ${women} + ${boys} + ${girls}",
    "selected(${needs}, 'other')",
    "not(selected(${needs}, 'none') and count-selected(${needs}) > 1)",
    "if(${m_age} < 18, 1, 0)",
    "sum(${m_age})",
    "count(${member}) = ${hh_size}",
    "today() - ${survey_date} < 30",
    "regex(${phone}, '^[+0-9 ]{7,20}$')",
];

fn expressions(c: &mut Criterion) {
    let mut instance = Instance::new("data");
    let root = instance.root();
    let mut fields: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in [
        ("consent", "yes"),
        ("men", "2"),
        ("women", "1"),
        ("boys", "0"),
        ("girls", "3"),
        ("needs", "food water other"),
        ("hh_size", "3"),
        ("survey_date", "2025-03-01"),
        ("phone", "+58 412 555 0199"),
    ] {
        let node = instance.add_child(root, name);
        instance.set_value(node, value);
        fields.insert(name.to_owned(), vec!["data".to_owned(), name.to_owned()]);
    }
    let mut context = root;
    for age in ["34", "37", "9"] {
        let member = instance.add_child(root, "member");
        let node = instance.add_child(member, "m_age");
        instance.set_value(node, age);
        context = node;
    }
    fields.insert("member".to_owned(), vec!["data".to_owned(), "member".to_owned()]);
    fields.insert("m_age".to_owned(), vec!["data".to_owned(), "member".to_owned(), "m_age".to_owned()]);
    let now = chrono::DateTime::parse_from_rfc3339("2025-03-14T10:00:00-05:00").expect("a time");
    let parsed: Vec<xpath::Expr> = EXPRESSIONS.iter().map(|text| xpath::parse(text).expect("parses")).collect();

    let mut group = c.benchmark_group("xpath");
    group.measurement_time(Duration::from_secs(3)).sample_size(20);
    group.bench_function("parse_10_expressions", |b| {
        b.iter(|| {
            for text in EXPRESSIONS {
                black_box(xpath::parse(black_box(text)).expect("parses"));
            }
        });
    });
    group.bench_function("evaluate_10_expressions", |b| {
        b.iter(|| {
            let env = Env::new(&instance, &fields, now);
            for expr in &parsed {
                black_box(xpath::evaluate(expr, &env, context).expect("evaluates"));
            }
        });
    });
    group.finish();
}

fn corpus(c: &mut Criterion) {
    let bytes = std::fs::read(CORPUS_FORM).expect("the corpus form is in data/xlsform-corpus");
    let started = Instant::now();
    let form = read_form(&bytes, Some("reach_lbn_msna_2022_kobo_tool.xlsx"));
    let fields = form.as_ref().map_or(0, |form| form.walk().len());
    println!(
        "reach_lbn_msna_2022_kobo_tool.xlsx ({} KiB, {fields} fields): read once in {:.1} ms",
        bytes.len() / 1024,
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut group = c.benchmark_group("xlsform");
    group.measurement_time(Duration::from_secs(5)).sample_size(10);
    group.bench_function("read_reach_lbn_msna_2022", |b| {
        b.iter(|| read_form(black_box(&bytes), Some("reach_lbn_msna_2022_kobo_tool.xlsx")));
    });
    if let Ok(form) = &form {
        group.bench_function("validator_new_reach_lbn_msna_2022", |b| b.iter(|| Validator::new(black_box(form))));
    }
    group.finish();
}

criterion_group!(benches, validation, expressions, corpus);
criterion_main!(benches);
