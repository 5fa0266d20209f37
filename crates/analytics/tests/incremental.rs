//! The live aggregates equal a rebuild from the stored submissions, whatever happens to
//! them: random sequences of new submissions, device edits (deprecatedID), reviewer edits,
//! rejections, deletions and restorations, on SQLite and PostgreSQL. After every few
//! steps each cube of each indicator is read in full, rebuilt with `reaggregate`, and
//! read again: the two must be equal.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rumbo_analytics::{FormInfo, IndicatorFile, Registry};
use rumbo_store::analytics::{CUBES, CellQuery, CellRow};
use rumbo_store::collection::{Channel, NewFormVersion, NewSubmission};
use rumbo_store::model::{Actor, CountryInput};
use rumbo_store::{Store, engine_tests};
use serde_json::{Value, json};

const FORM: &str = "| survey |\n\
    | | type | name | label |\n\
    | | select_one sex | sex | Sex |\n\
    | | select_one nat | nationality | Nationality |\n\
    | | integer | people | People in the group |\n\
    | | select_multiple need | needs | Needs |\n\
    | | begin repeat | kid | Child |\n\
    | | integer | kid_age | Age |\n\
    | | end repeat | | |\n\
    | choices |\n\
    | | list_name | name | label |\n\
    | | sex | female | Woman |\n\
    | | sex | male | Man |\n\
    | | nat | VEN | Venezuelan |\n\
    | | nat | HTI | Haitian |\n\
    | | need | food | Food |\n\
    | | need | water | Water |\n\
    | settings |\n\
    | | form_id | version |\n\
    | | prop_test | 1 |\n";

const INDICATORS: &str = r#"
[[indicator]]
id = "interviews"
form = "prop_test"
kind = "count"
name = { en = "Interviews" }
disaggregations = ["sex", "nationality", "day", "month"]

[[indicator]]
id = "people"
form = "prop_test"
kind = "sum"
name = { en = "People" }
value = "${people}"
disaggregations = ["sex", "nationality"]

[[indicator]]
id = "food"
form = "prop_test"
kind = "proportion"
name = { en = "Needs food" }
numerator = "selected(${needs}, 'food')"
denominator = "${people} > 1"
disaggregations = ["sex", "nationality"]

[[indicator]]
id = "kid_age"
form = "prop_test"
kind = "mean"
name = { en = "Mean age of children" }
unit = "kid"
value = "${kid_age}"
disaggregations = ["sex", "nationality"]
"#;

/// splitmix64: a fixed seed gives the same sequence (set RUMBO_PROPERTY_SEED to vary it).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn answers(rng: &mut Rng, instance: &str, deprecated: Option<&str>) -> Value {
    let kids: Vec<Value> = (0..rng.below(3)).map(|_| json!({ "kid_age": rng.below(18) })).collect();
    let mut meta = json!({ "instanceID": instance });
    if let Some(old) = deprecated {
        meta["deprecatedID"] = json!(old);
    }
    let sex = ["female", "male"][rng.below(2) as usize];
    let nationality = ["VEN", "HTI"][rng.below(2) as usize];
    let people = rng.below(6) + 1;
    let needs = ["food", "water", "food water", ""][rng.below(4) as usize];
    json!({ "sex": sex, "nationality": nationality, "people": people, "needs": needs, "kid": kids, "meta": meta })
}

fn submission(form_id: i64, version_id: i64, data: Value, day: NaiveDate) -> NewSubmission {
    let instance = data["meta"]["instanceID"].as_str().unwrap_or_default().to_owned();
    let deprecated = data["meta"]["deprecatedID"].as_str().map(str::to_owned);
    NewSubmission {
        form_id,
        form_version_id: version_id,
        xml_sha256: format!("sha-{instance}"),
        xml: format!("<data id=\"prop_test\">{instance}</data>"),
        instance_id: instance,
        deprecated_id: deprecated,
        country_code: Some("COL".into()),
        site_id: None,
        submitted_by: None,
        submitter: "test".into(),
        channel: Channel::Web,
        data,
        errors: json!([]),
        error_count: 0,
        complete: true,
        collected_on: Some(day),
        attachments: Vec::new(),
    }
}

/// Every cell of every cube of every indicator, as the API would read it.
async fn everything(store: &Store, indicators: &[&str]) -> Vec<(String, usize, Vec<CellRow>)> {
    let mut out = Vec::new();
    for id in indicators {
        for (cube, (_, dims)) in CUBES.iter().enumerate() {
            let query =
                CellQuery { indicator: (*id).to_owned(), cube, group_by: dims.to_vec(), ..CellQuery::default() };
            let mut rows = store.query_cells(&query).await.expect("query");
            rows.sort_by(|a, b| a.keys.cmp(&b.keys));
            out.push(((*id).to_owned(), cube, rows));
        }
    }
    out
}

engine_tests! {
    async fn live_aggregates_equal_a_rebuild_after_random_writes(db: TestDb) {
        let store: &Store = &db;
        let actor = Actor::system("test");
        store
            .upsert_country(&actor, &CountryInput { code: "COL".into(), iso2: "CO".into(), name_en: "Colombia".into(), name_es: "Colombia".into(), name_pt: "Colômbia".into() })
            .await
            .unwrap();
        let form = rumbo_xlsform::read_form(FORM.as_bytes(), Some("prop_test.md")).expect("the form reads");
        let (record, version) = store
            .publish_form_version(
                &actor,
                &NewFormVersion {
                    xml_form_id: "prop_test".into(),
                    title: "Property test".into(),
                    version: "1".into(),
                    file_name: "prop_test.md".into(),
                    xlsform: FORM.as_bytes().to_vec(),
                    xform: String::new(),
                    md5: "md5:0".into(),
                    changes: String::new(),
                    countries: vec!["COL".into()],
                },
            )
            .await
            .unwrap();
        let defs = IndicatorFile::parse(INDICATORS).unwrap();
        let ids: Vec<String> = defs.iter().map(|d| d.id.clone()).collect();
        let forms = HashMap::from([("prop_test".to_owned(), FormInfo { id: record.id, form: Arc::new(form) })]);
        let registry = Registry::build(defs, forms, Arc::new(HashMap::new()));
        assert!(ids.iter().all(|id| registry.problems(id).is_none()));
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();

        let seed = std::env::var("RUMBO_PROPERTY_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_127);
        let mut rng = Rng(seed);
        let mut current: Vec<(i64, String)> = Vec::new();
        let mut next = 0;
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        for step in 0..60 {
            let day = start + chrono::Days::new(rng.below(60));
            match rng.below(6) {
                0 | 1 => {
                    let batch: Vec<NewSubmission> = (0..=rng.below(4))
                        .map(|_| {
                            next += 1;
                            submission(record.id, version.id, answers(&mut rng, &format!("uuid:p{next}"), None), day)
                        })
                        .collect();
                    for (outcome, sent) in store.ingest(&actor, &batch, &registry).await.into_iter().zip(&batch) {
                        if let rumbo_store::collection::Ingested::Created { id } = outcome.unwrap() {
                            current.push((id, sent.instance_id.clone()));
                        }
                    }
                }
                2 if !current.is_empty() => {
                    // A device edit: a new instance that deprecates the current one.
                    let i = rng.below(current.len() as u64) as usize;
                    next += 1;
                    let new_id = format!("uuid:p{next}");
                    let data = answers(&mut rng, &new_id, Some(&current[i].1));
                    let outcome = store.ingest(&actor, &[submission(record.id, version.id, data, day)], &registry).await;
                    if matches!(outcome[0], Ok(rumbo_store::collection::Ingested::Created { .. })) {
                        current[i].1 = new_id;
                    }
                }
                3 if !current.is_empty() => {
                    // A reviewer's edit: a new instance id, as the server gives it.
                    let i = rng.below(current.len() as u64) as usize;
                    next += 1;
                    let new_id = format!("uuid:p{next}");
                    let data = answers(&mut rng, &new_id, None);
                    store
                        .edit_submission(&actor, current[i].0, &new_id, "<data/>", "sha", &data, &json!([]), 0, "random edit", &registry)
                        .await
                        .unwrap();
                    current[i].1 = new_id;
                }
                4 if !current.is_empty() => {
                    let (id, _) = current[rng.below(current.len() as u64) as usize].clone();
                    let status = ["rejected", "received", "approved", "flagged"][rng.below(4) as usize];
                    store.set_submission_status(&actor, id, status, "", &registry).await.unwrap();
                }
                5 if !current.is_empty() => {
                    let (id, _) = current[rng.below(current.len() as u64) as usize].clone();
                    store.set_submission_deleted(&actor, id, rng.below(2) == 0, &registry).await.unwrap();
                }
                _ => {}
            }
            if step % 10 == 9 {
                let live = everything(store, &ids).await;
                let (read, _) = store.reaggregate(&actor, &registry).await.unwrap();
                let rebuilt = everything(store, &ids).await;
                assert_eq!(live, rebuilt, "step {step} (seed {seed}): live aggregates differ from a rebuild of {read} submissions");
                assert!(live.iter().any(|(_, _, rows)| !rows.is_empty()), "the test must aggregate something");
            }
        }
    }
}
