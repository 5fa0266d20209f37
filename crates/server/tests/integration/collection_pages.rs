//! The forms and review pages, driven like a browser without JavaScript: publishing an
//! XLSForm (and seeing every problem of a broken one), the form's page and settings, the
//! review table with its filters and CSV, one submission's review, edit, bin and restore,
//! and who may see what.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use rumbo_domain::secrets::hash_password;
use rumbo_store::model::{Actor, Role, UserInput};
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestServer, client};

const SURVEY: &str = "\
| survey   |             |           |                     |            |           |
|          | type        | name      | label               | constraint | sensitive |
|          | today       | today     |                     |            |           |
|          | text        | site      | Site code           |            |           |
|          | integer     | age       | Age                 | . < 120    |           |
|          | text        | phone     | Phone               |            | yes       |
|          | begin group | g         | Group               |            |           |
|          | text        | note_text | Note                |            |           |
|          | end group   |           |                     |            |           |
| settings |             |           |                     |            |           |
|          | form_title  | form_id   | version             |            |           |
|          | Pages <b>survey</b> | pages_test | 1          |            |           |
";

/// Two problems: an unknown type (line 5) and a constraint that does not parse (line 6).
const BROKEN: &str = "\
| survey   |             |           |                     |            |
|          | type        | name      | label               | constraint |
|          | text        | site      | Site code           |            |
|          | integr      | age       | Age                 |            |
|          | integer     | adults    | Adults              | . <<< 3    |
| settings |             |           |                     |            |
|          | form_title  | form_id   | version             |            |
|          | Broken      | broken    | 1                   |            |
";

fn upload(csrf: &str, name: &str, text: &str, countries: &[&str]) -> Form {
    let mut form = Form::new().text("csrf", csrf.to_string());
    for c in countries {
        form = form.text("countries", (*c).to_string());
    }
    form.part("file", Part::bytes(text.as_bytes().to_vec()).file_name(name.to_string()))
}

/// Publishes the survey through the page as `im_col`; returns the form's id.
async fn publish(s: &TestServer, c: &reqwest::Client, csrf: &str) -> i64 {
    let r = c.post(s.url("/forms")).multipart(upload(csrf, "survey.md", SURVEY, &["COL"])).send().await.unwrap();
    let status = r.status();
    let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    assert_eq!(status, StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    assert!(location.ends_with("?notice=published"), "{location}");
    location.trim_start_matches("/forms/").split('?').next().unwrap().parse().unwrap()
}

/// Sends one submission as JSON with `im_col`'s token; returns its id.
async fn submit(s: &TestServer, form: i64, instance: &str, age: i64) -> i64 {
    let token = s.token("im_col").await;
    let body = json!({ "data": {
        "today": "2026-11-27", "site": "X", "age": age, "phone": "+57 300 000 0000",
        "g": { "note_text": "hello <b>there</b>" }, "meta": { "instanceID": instance }
    }});
    let r = client()
        .post(s.url(&format!("/api/v1/forms/{form}/submissions")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn page(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

crate::server_tests! {
    async fn publishing_shows_every_problem_located_and_the_form_page(s: TestServer) {
        let (c, csrf) = s.signed_in("im_col").await;
        let (status, html) = page(&c, s.url("/forms")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("id=\"upload-form\"") && html.contains("enctype=\"multipart/form-data\""));
        assert!(html.contains("href=\"/forms\" class=\"active\""), "the navigation links the forms");

        // Without the page's token nothing is published.
        let r = c.post(s.url("/forms")).multipart(upload("wrong", "survey.md", SURVEY, &["COL"])).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // A broken form: every problem, each with its sheet, row and column.
        let r = c.post(s.url("/forms")).multipart(upload(&csrf, "broken.md", BROKEN, &["COL"])).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"xlsform-problems\""), "{html}");
        assert!(html.contains("Row 4"), "the unknown type is located: {html}");
        assert!(html.contains("Row 5"), "the bad constraint is located: {html}");
        assert!(html.contains("<td>constraint</td>") && html.contains("<td>type</td>"), "{html}");
        assert!(html.contains("<option value=\"COL\" selected>"), "the chosen countries stay chosen");
        let (_, list) = page(&c, s.url("/forms")).await;
        assert!(!list.contains("broken"), "nothing was published");

        // A new form needs a country.
        let r = c.post(s.url("/forms")).multipart(upload(&csrf, "survey.md", SURVEY, &[])).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("attach the new form to at least one country"));

        let id = publish(&s, &c, &csrf).await;
        let (status, html) = page(&c, s.url(&format!("/forms/{id}?notice=published"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Published."));
        assert!(html.contains("Pages &#60;b&#62;survey&#60;/b&#62;") && !html.contains("<b>survey"), "titles are escaped");
        assert!(html.contains("<code>pages_test</code>") && html.contains("md5:"));
        assert!(html.contains(&format!("href=\"/collect/{id}\"")) && html.contains(&format!("href=\"/forms/{id}/submissions\"")));
        assert!(html.contains(&format!("href=\"/forms/{id}/import\"")));
        assert!(html.contains(&format!("/api/v1/forms/{id}/xlsform?version_id=")));
        assert!(html.contains("id=\"settings-form\""));
        let (_, list) = page(&c, s.url("/forms")).await;
        assert!(list.contains(&format!("href=\"/forms/{id}\"")) && list.contains("pages_test"));

        // A new version from the form's page: the versions table says what changed.
        let v2 = SURVEY.replace("| 1          |", "| 2          |").replace(
            "|          | end group   |",
            "|          | text        | extra     | Extra               |            |           |\n|          | end group   |",
        );
        let r = c.post(s.url(&format!("/forms/{id}/versions"))).multipart(upload(&csrf, "survey-v2.md", &v2, &[])).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = page(&c, s.url(&format!("/forms/{id}"))).await;
        assert!(html.contains("survey-v2.md") && html.contains("survey.md"));
        assert!(html.contains("<pre class=\"changes\">"), "{html}");
        // The same version again: refused, shown on the form's page.
        let r = c.post(s.url(&format!("/forms/{id}/versions"))).multipart(upload(&csrf, "survey-v2.md", &v2, &[])).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap().contains("role=\"alert\""));

        // Another form's file on this form's page is refused, not published as that form.
        let other = SURVEY.replace("pages_test", "other_form");
        let r = c.post(s.url(&format!("/forms/{id}/versions"))).multipart(upload(&csrf, "other.md", &other, &[])).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap().contains("this file is the form `other_form`, not `pages_test`"));
        let (_, list) = page(&c, s.url("/forms")).await;
        assert!(!list.contains("other_form"));

        // Settings.
        let r = c.post(s.url(&format!("/forms/{id}/settings")))
            .form(&[("csrf", csrf.as_str()), ("title", "Border <i>2026</i>"), ("open", "true"), ("public", "true"), ("countries", "COL")])
            .send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let form: Value = client().get(s.url(&format!("/api/v1/forms/{id}"))).bearer_auth(s.token("im_col").await).send().await.unwrap().json().await.unwrap();
        assert_eq!(form["title"], "Border <i>2026</i>");
        assert_eq!(form["public"], true);
        assert_eq!(form["accept_with_errors"], false);
        let r = c.post(s.url(&format!("/forms/{id}/settings")))
            .form(&[("csrf", csrf.as_str()), ("title", "Border"), ("open", "true")])
            .send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("a form needs at least one country"));
        let r = c.post(s.url(&format!("/forms/{id}/settings"))).form(&[("title", "No token"), ("countries", "COL")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    async fn reviewing_filtering_editing_and_the_bin(s: TestServer) {
        let (c, csrf) = s.signed_in("im_col").await;
        let form = publish(&s, &c, &csrf).await;
        let id = submit(&s, form, "uuid:11111111-1111-4111-8111-111111111111", 30).await;
        let table = |query: &str| s.url(&format!("/forms/{form}/submissions{query}"));

        let (status, html) = page(&c, table("")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(&format!("href=\"/submissions/{id}\"")), "{html}");
        assert!(html.contains("<th scope=\"col\" class=\"answer\">age</th>") && html.contains("<td class=\"answer\">30</td>"));
        assert!(html.contains("hello &#60;b&#62;there&#60;/b&#62;"), "answers are escaped");
        assert!(html.contains("im_col"));
        for (query, shown) in [
            ("?status=approved", false),
            ("?status=received", true),
            ("?errors=yes", false),
            ("?errors=no", true),
            ("?from=2026-11-28", false),
            ("?from=2026-11-27&to=2026-11-27", true),
            ("?q=11111111", true),
            ("?q=22222222", false),
            ("?submitter=viewer", false),
            ("?country=COL&site_id=&round_id=", true),
            ("?deleted=true", false),
        ] {
            let (status, html) = page(&c, table(query)).await;
            assert_eq!(status, StatusCode::OK, "{query}");
            assert_eq!(html.contains(&format!("href=\"/submissions/{id}\"")), shown, "{query}");
        }
        let (_, html) = page(&c, table("?from=yesterday")).await;
        assert!(html.contains("is not a date"));
        let (_, html) = page(&c, table("?status=received")).await;
        assert!(html.contains(&format!("href=\"/forms/{form}/submissions.csv?status=received\"")), "the download keeps the filters");

        // The detail, then approve with a note.
        let (status, html) = page(&c, s.url(&format!("/submissions/{id}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<dt>Age <code>age</code></dt><dd>30</dd>") && html.contains("+57 300 000 0000"), "{html}");
        assert!(html.contains("<dt>Group <code>g</code></dt><dd><dl class=\"answers\"><dt>Note <code>note_text</code></dt>"));
        assert!(html.contains("<details class=\"xml\">") && html.contains("id=\"approve\""));
        let r = c.post(s.url(&format!("/submissions/{id}/status"))).form(&[("status", "approved")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "a decision needs the page's token");
        let r = c.post(s.url(&format!("/submissions/{id}/status"))).form(&[("csrf", csrf.as_str()), ("status", "approved"), ("note", "checked by phone")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = page(&c, s.url(&format!("/submissions/{id}?notice=saved"))).await;
        assert!(html.contains("Saved.") && html.contains("<span class=\"status status-approved\" id=\"status\">Approved</span>"));
        assert!(html.contains("id=\"review-history\""), "the review history is shown");
        assert!(html.contains("<strong>Approved</strong>: checked by phone"), "with the reviewer's note");
        let (_, html) = page(&c, table("?status=approved")).await;
        assert!(html.contains(&format!("href=\"/submissions/{id}\"")));

        // The CSV is what the table shows.
        let r = c.get(s.url(&format!("/forms/{form}/submissions.csv?status=approved"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with("id,instance_id,") && csv.contains("uuid:11111111-1111-4111-8111-111111111111"), "{csv}");
        let csv = c.get(s.url(&format!("/forms/{form}/submissions.csv?status=rejected"))).send().await.unwrap().text().await.unwrap();
        assert_eq!(csv.lines().count(), 1, "only the header: {csv}");

        // Edit: answers that break the form come back next to their field; the reason is needed.
        let (status, html) = page(&c, s.url(&format!("/submissions/{id}/edit"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("name=\"answer:age\" type=\"text\" value=\"30\""), "{html}");
        assert!(html.contains("name=\"answer:g/note_text\""));
        assert!(!html.contains("answer:meta"), "the ids are not edited by hand");
        let edit = |age: &'static str, reason: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("answer:today", "2026-11-27".to_string()),
                ("answer:site", "X".to_string()),
                ("answer:age", age.to_string()),
                ("answer:phone", "+57 300 000 0000".to_string()),
                ("answer:g/note_text", "corrected".to_string()),
                ("reason", reason.to_string()),
            ]
        };
        let r = c.post(s.url(&format!("/submissions/{id}/edit"))).form(&edit("31", "")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("say why the submission is edited"));
        let r = c.post(s.url(&format!("/submissions/{id}/edit"))).form(&edit("500", "typo")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let html = r.text().await.unwrap();
        let at = html.find("name=\"answer:age\"").expect("the age field");
        let after = &html[at..];
        assert!(after[..after.find("</div>").unwrap()].contains("class=\"field-error\""), "the error sits with its field: {html}");
        assert!(html.contains("value=\"500\""), "what was typed stays");
        let r = c.post(s.url(&format!("/submissions/{id}/edit"))).form(&edit("31", "age misread on paper")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = page(&c, s.url(&format!("/submissions/{id}"))).await;
        assert!(html.contains("<dt>Age <code>age</code></dt><dd>31</dd>") && html.contains("corrected"));
        assert!(html.contains("id=\"earlier-versions\"") && html.contains("age misread on paper"), "{html}");
        assert!(html.contains("uuid:11111111-1111-4111-8111-111111111111"), "the earlier version's id is listed");
        let row: Value = client().get(s.url(&format!("/api/v1/submissions/{id}"))).bearer_auth(s.token("im_col").await).send().await.unwrap().json().await.unwrap();
        assert_eq!(row["data"]["age"], 31, "numbers stay numbers");
        assert_eq!(row["edits"], 1);

        // The bin, and back.
        let r = c.post(s.url(&format!("/submissions/{id}/delete"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = page(&c, s.url(&format!("/submissions/{id}"))).await;
        assert!(html.contains("id=\"in-bin\"") && html.contains("id=\"restore\"") && !html.contains("id=\"approve\""));
        let (_, html) = page(&c, table("")).await;
        assert!(!html.contains(&format!("href=\"/submissions/{id}\"")));
        let (_, html) = page(&c, table("?deleted=true")).await;
        assert!(html.contains(&format!("href=\"/submissions/{id}\"")));
        assert_eq!(c.get(s.url(&format!("/submissions/{id}/edit"))).send().await.unwrap().status(), StatusCode::CONFLICT);
        let r = c.post(s.url(&format!("/submissions/{id}/restore"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = page(&c, table("")).await;
        assert!(html.contains(&format!("href=\"/submissions/{id}\"")));
    }

    async fn other_countries_are_refused_and_viewers_do_not_see_sensitive_answers(s: TestServer) {
        let (c, csrf) = s.signed_in("im_col").await;
        let form = publish(&s, &c, &csrf).await;
        let id = submit(&s, form, "uuid:33333333-3333-4333-8333-333333333333", 40).await;
        s.db.save_user(
            &Actor::system("test"),
            None,
            &UserInput {
                username: "enum_per".into(),
                display_name: "Enumerator Peru".into(),
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
        let (per, _) = s.signed_in("enum_per").await;
        for path in [format!("/forms/{form}"), format!("/forms/{form}/submissions"), format!("/submissions/{id}"), format!("/submissions/{id}/edit"), format!("/forms/{form}/submissions.csv")] {
            assert_eq!(per.get(s.url(&path)).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
        }
        let (_, list) = page(&per, s.url("/forms")).await;
        assert!(!list.contains("pages_test") && !list.contains("id=\"upload-form\""));

        // The enumerator of Colombia sees the form but neither its settings nor its submissions.
        let (col, _) = s.signed_in("enumerator").await;
        let (status, html) = page(&col, s.url(&format!("/forms/{form}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("id=\"settings-form\"") && !html.contains("id=\"upload-form\"") && !html.contains("id=\"review\""));
        assert_eq!(col.get(s.url(&format!("/submissions/{id}"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);

        // A viewer reads, without the sensitive answer and without the reviewer's buttons.
        let (v, vcsrf) = s.signed_in("viewer").await;
        let (status, html) = page(&v, s.url(&format!("/submissions/{id}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<dt>Phone <code>phone</code></dt><dd>(hidden)</dd>"), "{html}");
        assert!(!html.contains("+57 300") && !html.contains("<details class=\"xml\">"));
        assert!(!html.contains("id=\"approve\"") && !html.contains("id=\"edit\""));
        let (_, table) = page(&v, s.url(&format!("/forms/{form}/submissions"))).await;
        assert!(!table.contains("+57 300") && table.contains("(hidden)"));
        let r = v.post(s.url(&format!("/submissions/{id}/status"))).form(&[("csrf", vcsrf.as_str()), ("status", "approved")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(v.get(s.url(&format!("/submissions/{id}/edit"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
}
