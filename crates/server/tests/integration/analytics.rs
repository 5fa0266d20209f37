//! Indicators and aggregates through the API, on both engines: declaring (and refusing bad
//! declarations), live aggregates after submissions, edits, reviews and deletions, the
//! post-stratified estimate against a hand-computed one, scoping and suppression, the
//! live stream, and the dashboard page.

use std::time::Duration;

use reqwest::StatusCode;
use rumbo_domain::secrets::hash_password;
use rumbo_store::model::{Actor, Role, UserInput};
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestServer, client, publish_form, submit_answers};

const REGISTRY: &str = "| survey |\n\
    | | type | name | label | required |\n\
    | | select_one sites | site | Point | yes |\n\
    | | date | date | Day | yes |\n\
    | | decimal | observed_hours | Hours observed | yes |\n\
    | | begin repeat | grp | Group | |\n\
    | | select_one nat | nationality | Nationality | yes |\n\
    | | integer | f_adult | Women 18-59 | yes |\n\
    | | integer | m_adult | Men 18-59 | yes |\n\
    | | end repeat | | | |\n\
    | choices |\n\
    | | list_name | name | label |\n\
    | | sites | PER-FMP-001 | Plaza Norte |\n\
    | | nat | VEN | Venezuelan |\n\
    | | nat | COL | Colombian |\n\
    | settings |\n\
    | | form_id | version |\n\
    | | reg_test | 1 |\n";

const SURVEY: &str = "| survey |\n\
    | | type | name | label | required | calculation |\n\
    | | select_one sites | site | Point | yes | |\n\
    | | select_one sex | sex | Sex | yes | |\n\
    | | integer | age | Age | yes | |\n\
    | | calculate | age_group | | | if(${age} < 60, '18-59', '60+') |\n\
    | | select_multiple need | needs | Needs | | |\n\
    | | select_one yn | incident | Incident on the way | | |\n\
    | choices |\n\
    | | list_name | name | label | |\n\
    | | sites | PER-FMP-001 | Plaza Norte | |\n\
    | | sex | female | Woman | |\n\
    | | sex | male | Man | |\n\
    | | need | food | Food | |\n\
    | | need | water | Water | |\n\
    | | yn | yes | Yes | |\n\
    | | yn | no | No | |\n\
    | settings |\n\
    | | form_id | version | |\n\
    | | svy_test | 1 | |\n";

const INDICATORS: &str = r#"
[[indicator]]
id = "reg_people"
form = "reg_test"
kind = "sum"
name = { en = "People counted", es = "Personas contadas" }
unit = "grp"
cells = [
  { sex = "female", age_group = "18-59", value = "${f_adult}" },
  { sex = "male", age_group = "18-59", value = "${m_adult}" },
]
dimensions = { day = "${date}" }
disaggregations = ["round", "day", "site", "adm1", "sex", "age_group", "nationality"]
section = "flows"
headline = true

[[indicator]]
id = "reg_flow"
form = "reg_test"
kind = "sum"
name = { en = "Flow scaled to 24 h" }
unit = "grp"
scale = "24 div ${observed_hours}"
value = "${f_adult} + ${m_adult}"
disaggregations = ["site", "nationality"]

[[indicator]]
id = "svy_count"
form = "svy_test"
kind = "count"
name = { en = "Interviews" }
disaggregations = ["site", "adm1", "sex", "age_group"]
headline = true

[[indicator]]
id = "svy_food"
form = "svy_test"
kind = "proportion"
name = { en = "Needs food", es = "Necesita alimentos" }
numerator = "selected(${needs}, 'food')"
disaggregations = ["site", "adm1", "sex", "age_group"]
weight_by = "reg_people"
section = "needs"

[[indicator]]
id = "svy_incident"
form = "svy_test"
kind = "proportion"
name = { en = "Incident on the way" }
numerator = "${incident} = 'yes'"
disaggregations = ["sex"]
sensitivity = "restricted"
"#;

async fn publish(s: &TestServer, token: &str, name: &str, form: &str) -> i64 {
    publish_form(s, token, name, form.as_bytes(), "PER").await
}

async fn submit(s: &TestServer, token: &str, form: i64, data: Value) -> i64 {
    submit_answers(s, token, form, data).await
}

async fn get(s: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let r = client().get(s.url(path)).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|v| (v - expected).abs() < 1e-6)
}

fn row<'a>(answer: &'a Value, dim: &str, key: &str) -> &'a Value {
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["keys"][dim] == key)
        .unwrap_or_else(|| panic!("no {dim}={key} in {answer}"))
}

fn interview(i: usize, sex: &str, food: bool) -> Value {
    json!({
        "site": "PER-FMP-001", "sex": sex, "age": 30 + i, "needs": if food { "food water" } else { "water" },
        "incident": if i.is_multiple_of(3) { "yes" } else { "no" },
        "meta": { "instanceID": format!("uuid:svy-{sex}-{i}") },
    })
}

crate::server_tests! {
    async fn indicators_are_declared_checked_and_follow_every_write(s: TestServer) {
        let admin = s.token("admin").await;
        let registry_form = publish(&s, &admin, "reg_test.md", REGISTRY).await;
        let survey_form = publish(&s, &admin, "svy_test.md", SURVEY).await;

        // Bad declarations: each problem named, nothing saved.
        let bad = INDICATORS.replace("selected(${needs}, 'food')", "selected(${needs}, 'food'").replace(r#"value = "${m_adult}""#, r#"value = "${m_adlt}""#);
        let r = client().post(s.url("/api/v1/indicators/import")).bearer_auth(&admin).body(bad).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        let text = body.to_string();
        assert!(text.contains("svy_food.numerator") && text.contains("does not parse"), "{text}");
        assert!(text.contains("m_adlt") && text.contains("names no field"), "{text}");
        let unsupported = INDICATORS.replace(r#"disaggregations = ["sex"]"#, r#"disaggregations = ["sex", "destination"]"#);
        let r = client().post(s.url("/api/v1/indicators/import")).bearer_auth(&admin).body(unsupported).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("cannot be broken down by destination"));
        let (_, list) = get(&s, &admin, "/api/v1/indicators").await;
        assert_eq!(list.as_array().unwrap().len(), 0, "nothing may be saved: {list}");
        // An IM officer of Colombia may not declare indicators on a form of Peru.
        let im = s.token("im_col").await;
        let r = client().post(s.url("/api/v1/indicators/import")).bearer_auth(&im).body(INDICATORS).send().await.unwrap();
        assert_eq!(r.status(), 403);

        // Registry: 30 women and 70 men (18-59) of Venezuela in 12 observed hours, and a
        // group of Colombians.
        submit(&s, &admin, registry_form, json!({
            "site": "PER-FMP-001", "date": "2026-05-02", "observed_hours": 12,
            "grp": [ { "nationality": "VEN", "f_adult": 30, "m_adult": 70 }, { "nationality": "COL", "f_adult": 0, "m_adult": 2 } ],
            "meta": { "instanceID": "uuid:reg-1" },
        })).await;
        // Survey: 5 women (3 need food) and 5 men (1 needs food).
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(submit(&s, &admin, survey_form, interview(i, "female", i < 3)).await);
        }
        for i in 0..5 {
            ids.push(submit(&s, &admin, survey_form, interview(i, "male", i < 1)).await);
        }

        // Indicators declared after the data: built from what is stored.
        let r = client().post(s.url("/api/v1/indicators/import")).bearer_auth(&admin).body(INDICATORS).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let (_, list) = get(&s, &admin, "/api/v1/indicators").await;
        assert_eq!(list.as_array().unwrap().len(), 5);

        let (status, people) = get(&s, &admin, "/api/v1/aggregates?indicator=reg_people&by=sex,age_group").await;
        assert_eq!(status, 200, "{people}");
        assert!(close(&row(&people, "sex", "female")["value"], 30.0), "{people}");
        assert!(close(&row(&people, "sex", "male")["value"], 72.0), "{people}");
        assert!(close(&people["total"]["value"], 102.0));
        let (_, by_nat) = get(&s, &admin, "/api/v1/aggregates?indicator=reg_people&by=nationality").await;
        assert_eq!(row(&by_nat, "nationality", "VEN")["labels"]["nationality"], "Venezuelan");
        let (_, flow) = get(&s, &admin, "/api/v1/aggregates?indicator=reg_flow").await;
        assert!(close(&flow["total"]["value"], 204.0), "scaled by 24/12: {flow}");
        let (_, by_day) = get(&s, &admin, "/api/v1/aggregates?indicator=reg_people&by=day&from=2026-05-01&to=2026-05-31").await;
        assert_eq!(by_day["rows"][0]["labels"]["day"], "2026-05-02", "{by_day}");

        // Post-stratified share needing food, by hand: w(female) = 30/5 = 6, w(male) = 72/5 = 14.4;
        // (6·3 + 14.4·1) / (6·5 + 14.4·5) = 32.4 / 102 = 0.317 647 (unweighted: 0.4).
        let (_, food) = get(&s, &admin, "/api/v1/aggregates?indicator=svy_food&by=sex").await;
        assert_eq!(food["weighted"], true);
        assert!(close(&food["total"]["value"], 32.4 / 102.0), "{food}");
        assert_eq!(food["total"]["n"], 10);
        let (low, high) = (food["total"]["low"].as_f64().unwrap(), food["total"]["high"].as_f64().unwrap());
        assert!(low < 32.4 / 102.0 && high > 32.4 / 102.0 && high - low < 0.8, "{food}");
        assert!(close(&row(&food, "sex", "female")["value"], 0.6));
        assert_eq!(row(&food, "sex", "female")["labels"]["sex"], "Woman");
        let (_, count) = get(&s, &admin, "/api/v1/aggregates?indicator=svy_count&by=adm1").await;
        assert!(close(&row(&count, "adm1", "PE-LIM")["value"], 10.0), "{count}");
        assert_eq!(row(&count, "adm1", "PE-LIM")["labels"]["adm1"], "Lima");

        // An edit (a woman no longer needs food), a deletion (the man who did) and a
        // rejection change the figures at once.
        let (_, detail) = get(&s, &admin, &format!("/api/v1/submissions/{}", ids[0])).await;
        let mut data = detail["data"].clone();
        data["needs"] = json!("water");
        let r = client()
            .put(s.url(&format!("/api/v1/submissions/{}", ids[0])))
            .bearer_auth(&admin)
            .json(&json!({ "data": data, "reason": "the interviewer ticked the wrong need" }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let (_, food) = get(&s, &admin, "/api/v1/aggregates?indicator=svy_food&by=sex").await;
        assert!(close(&row(&food, "sex", "female")["value"], 0.4), "{food}");
        let r = client().delete(s.url(&format!("/api/v1/submissions/{}", ids[5]))).bearer_auth(&admin).send().await.unwrap();
        assert!(r.status().is_success());
        let (_, food) = get(&s, &admin, "/api/v1/aggregates?indicator=svy_food&by=sex").await;
        assert!(close(&row(&food, "sex", "male")["value"], 0.0), "{food}");
        assert_eq!(row(&food, "sex", "male")["n"], 4);
        let r = client()
            .post(s.url(&format!("/api/v1/submissions/{}/status", ids[1])))
            .bearer_auth(&admin)
            .json(&json!({ "status": "rejected", "note": "duplicate interview" }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let (_, count) = get(&s, &admin, "/api/v1/aggregates?indicator=svy_count").await;
        assert!(close(&count["total"]["value"], 8.0), "{count}");
        let r = client().post(s.url(&format!("/api/v1/submissions/{}/restore", ids[5]))).bearer_auth(&admin).send().await.unwrap();
        assert!(r.status().is_success());
        let (_, count) = get(&s, &admin, "/api/v1/aggregates?indicator=svy_count").await;
        assert!(close(&count["total"]["value"], 9.0), "{count}");

        // Bad questions: named, 4xx.
        for (path, field) in [
            ("/api/v1/aggregates?indicator=svy_food&adm1=XX-NOPE", "adm1"),
            ("/api/v1/aggregates?indicator=svy_food&by=destination", "by"),
            ("/api/v1/aggregates?indicator=svy_food&by=planet", "by"),
            ("/api/v1/aggregates?indicator=svy_food&site=NOPE", "site"),
            ("/api/v1/aggregates?indicator=svy_food&round=Ronda%2099", "round"),
            ("/api/v1/aggregates?indicator=svy_food&from=2026-13-01", "from"),
        ] {
            let (status, body) = get(&s, &admin, path).await;
            assert_eq!(status, 422, "{path}: {body}");
            assert_eq!(body["field"], field, "{path}: {body}");
        }
        let (status, _) = get(&s, &admin, "/api/v1/aggregates?indicator=nope").await;
        assert_eq!(status, 404);

        // Scope: Colombia's enumerator sees nothing of Peru and no restricted indicator.
        let enumerator = s.token("enumerator").await;
        let (status, _) = get(&s, &enumerator, "/api/v1/aggregates?indicator=svy_count&country=PER").await;
        assert_eq!(status, 403);
        let (_, theirs) = get(&s, &enumerator, "/api/v1/aggregates?indicator=svy_count").await;
        assert!(theirs["total"]["value"].is_null() || close(&theirs["total"]["value"], 0.0), "{theirs}");
        let (status, _) = get(&s, &enumerator, "/api/v1/aggregates?indicator=svy_incident").await;
        assert_eq!(status, 403);
        let (_, listed) = get(&s, &enumerator, "/api/v1/indicators").await;
        assert!(!listed.to_string().contains("svy_incident"));

        // Suppression: an enumerator of Peru (who may not read submissions) sees the small
        // cells hidden; the regional viewer (who may) sees them.
        s.db.save_user(
            &Actor::system("test"),
            None,
            &UserInput {
                username: "enum_per".into(),
                display_name: "Enumerator, Lima".into(),
                role: Role::Enumerator,
                organisation_id: None,
                all_countries: false,
                countries: vec!["PER".into()],
                active: true,
            },
            Some(&hash_password(PASSWORD)),
        )
        .await
        .unwrap();
        let per = s.token("enum_per").await;
        let (_, hidden) = get(&s, &per, "/api/v1/aggregates?indicator=svy_food&by=sex").await;
        // Four women are left (one rejected): fewer than the threshold of 5. Their row goes,
        // and so does the men's (else the total minus the men would give the women).
        assert_eq!(hidden["rows"].as_array().unwrap().len(), 0, "{hidden}");
        assert_eq!(hidden["suppressed_rows"], 2, "{hidden}");
        assert!(!hidden.to_string().contains("\"female\""), "{hidden}");
        assert_eq!(hidden["total"]["suppressed"], false, "nine interviews are enough: {hidden}");
        let viewer = s.token("viewer").await;
        let (_, shown) = get(&s, &viewer, "/api/v1/aggregates?indicator=svy_food&by=sex").await;
        assert_eq!(row(&shown, "sex", "female")["suppressed"], false, "{shown}");

        // An indicator another is weighted by cannot be deleted; a plain one can.
        let r = client().delete(s.url("/api/v1/indicators/reg_people")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let r = client().delete(s.url("/api/v1/indicators/svy_incident")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 204);
        let (status, _) = get(&s, &admin, "/api/v1/aggregates?indicator=svy_incident").await;
        assert_eq!(status, 404);
        // Changing an indicator rebuilds it.
        let (_, one) = get(&s, &admin, "/api/v1/indicators/svy_count").await;
        let mut def = one.clone();
        def.as_object_mut().unwrap().remove("problems");
        def["filter"] = json!("${sex} = 'female'");
        let r = client().put(s.url("/api/v1/indicators/svy_count")).bearer_auth(&admin).json(&def).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let (_, count) = get(&s, &admin, "/api/v1/aggregates?indicator=svy_count").await;
        assert!(close(&count["total"]["value"], 4.0), "women only, one rejected: {count}");

        // The dashboard draws the figures.
        let (browser, _) = s.signed_in("admin").await;
        let html = browser.get(s.url("/dashboard?country=PER")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("People counted") && html.contains("<svg"), "{html}");
        assert!(html.contains("id=\"card-pyramid\"") && html.contains("id=\"card-map\""));
        let csv = browser.get(s.url("/dashboard/data.csv?indicator=reg_people&by=sex")).send().await.unwrap().text().await.unwrap();
        // One column per sex, tagged with HXL attributes under the headers.
        let tags = csv.lines().nth(1).unwrap_or_default();
        assert!(tags.starts_with("#indicator+value+reg_people+"), "{csv}");
        assert_eq!(tags.split(',').count(), csv.lines().next().unwrap().split(',').count(), "{csv}");
        let page = browser.get(s.url("/indicators")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("svy_food"));
    }

    async fn an_open_dashboard_hears_of_a_new_submission_at_once(s: TestServer) {
        let admin = s.token("admin").await;
        let survey_form = publish(&s, &admin, "svy_test.md", SURVEY).await;
        let mut stream = client()
            .get(s.url("/api/v1/aggregates/stream"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let sent = std::time::Instant::now();
        submit(&s, &admin, survey_form, interview(1, "female", true)).await;
        let mut seen = String::new();
        while !seen.contains("event: update") {
            let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.expect("an event within 5 s").unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("the stream stays open")));
        }
        eprintln!("update event {} ms after the submission was sent", sent.elapsed().as_millis());
    }
}
