//! The OpenRosa conversation as ODK Collect holds it, against a running server: form list,
//! form download, manifest, HEAD, POST with an image attachment, a split submission, a
//! duplicate, a conflicting duplicate, an edit; with Digest, Basic and a device key; and
//! the bad inputs.

use md5::{Digest as _, Md5};
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::common::{TestServer, client};
use crate::server_tests;

/// A small survey with a group, a constraint, a select, an image and a sensitive question.
pub const SURVEY_MD: &str = "\
| survey   |                  |              |                          |                 |                      |           |
|          | type             | name         | label                    | constraint      | relevant             | sensitive |
|          | start            | start        |                          |                 |                      |           |
|          | today            | today        |                          |                 |                      |           |
|          | text             | site         | Site code                |                 |                      |           |
|          | integer          | adults       | Adults in the group      | . >= 0 and . < 50 |                    |           |
|          | select_one yn    | children     | Children in the group?   |                 |                      |           |
|          | begin group      | kids         | Children                 |                 | ${children} = 'yes'  |           |
|          | integer          | kid_count    | How many children?       | . > 0           |                      |           |
|          | end group        |              |                          |                 |                      |           |
|          | image            | photo        | Photo of the document    |                 |                      |           |
|          | text             | phone        | Phone                    |                 |                      | yes       |
| choices  |                  |              |                          |                 |                      |           |
|          | list_name        | name         | label                    |                 |                      |           |
|          | yn               | yes          | Yes                      |                 |                      |           |
|          | yn               | no           | No                       |                 |                      |           |
| settings |                  |              |                          |                 |                      |           |
|          | form_title       | form_id      | version                  |                 |                      |           |
|          | Border survey    | border       | 2026112701               |                 |                      |           |
";

/// Publishes [`SURVEY_MD`] for Colombia as the regional admin; returns the form's id.
pub async fn publish_survey(s: &TestServer) -> i64 {
    publish(s, "border.md", SURVEY_MD, "COL").await
}

pub async fn publish(s: &TestServer, name: &str, text: &str, countries: &str) -> i64 {
    let token = s.token("admin").await;
    let form = Form::new()
        .part("file", Part::bytes(text.as_bytes().to_vec()).file_name(name.to_string()))
        .text("countries", countries.to_string());
    let r = client().post(s.url("/api/v1/forms")).bearer_auth(&token).multipart(form).send().await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["form"]["id"].as_i64().unwrap()
}

/// A submission document of the border survey.
pub fn submission(instance: &str, adults: &str, extra: &str) -> String {
    format!(
        "<?xml version='1.0' ?><data xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\" \
         id=\"border\" version=\"2026112701\"><start>2026-11-27T10:00:00.000-05:00</start><today>2026-11-27</today>\
         <site>X</site><adults>{adults}</adults><children>yes</children><kids><kid_count>2</kid_count></kids>\
         <photo>doc.jpg</photo><phone>+57 300 000 0000</phone>\
         <meta><instanceID>{instance}</instanceID>{extra}</meta></data>"
    )
}

fn multipart(xml: &str, image: Option<&[u8]>, incomplete: bool) -> Form {
    let mut form = Form::new().part(
        "xml_submission_file",
        Part::bytes(xml.as_bytes().to_vec()).file_name("submission.xml").mime_str("text/xml").unwrap(),
    );
    if let Some(bytes) = image {
        form = form.part("doc.jpg", Part::bytes(bytes.to_vec()).file_name("doc.jpg").mime_str("image/jpeg").unwrap());
    }
    if incomplete {
        form = form.text("*isIncomplete*", "yes");
    }
    form
}

/// Answers a Digest challenge the way ODK Collect's HTTP client does (qop=auth).
fn digest_answer(challenge: &str, method: &str, uri: &str, user: &str, password: &str) -> String {
    let param = |name: &str| {
        let start = challenge.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        challenge[start..].split('"').next().unwrap().to_string()
    };
    let (realm, nonce, opaque) = (param("realm"), param("nonce"), param("opaque"));
    let md5 = |s: String| hex::encode(Md5::digest(s.as_bytes()));
    let ha1 = md5(format!("{user}:{realm}:{password}"));
    let ha2 = md5(format!("{method}:{uri}"));
    let (nc, cnonce) = ("00000001", "0a4f113b");
    let response = md5(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", qop=auth, nc={nc}, \
         cnonce=\"{cnonce}\", response=\"{response}\", opaque=\"{opaque}\", algorithm=MD5"
    )
}

/// Sends a request once without credentials, then again answering the Digest challenge.
async fn with_digest(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Form>,
    user: &str,
) -> reqwest::Response {
    let c = client();
    let first = c.request(method.clone(), s.url(path)).header("X-OpenRosa-Version", "1.0").send().await.unwrap();
    assert_eq!(first.status(), 401, "{path} without credentials");
    assert_eq!(first.headers()["x-openrosa-version"], "1.0");
    let challenge = first
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("Digest"))
        .expect("a Digest challenge");
    let auth = digest_answer(&challenge, method.as_str(), path, user, crate::common::PASSWORD);
    let mut request = c.request(method, s.url(path)).header("X-OpenRosa-Version", "1.0").header("Authorization", auth);
    if let Some(body) = body {
        request = request.multipart(body);
    }
    request.send().await.unwrap()
}

server_tests! {
    async fn odk_collect_conversation(s: TestServer) {
        let form_id = publish_survey(&s).await;
        // The enumerator has signed in once (that is when the Digest secret is kept).
        s.token("enumerator").await;

        // Form list.
        let r = with_digest(&s, reqwest::Method::GET, "/openrosa/formList", None, "enumerator").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-openrosa-version"], "1.0");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
        let list = r.text().await.unwrap();
        assert!(list.contains("<formID>border</formID>"), "{list}");
        assert!(list.contains("<version>2026112701</version>"));
        assert!(list.contains("<hash>md5:"));
        let download = list.split("<downloadUrl>").nth(1).unwrap().split("</downloadUrl>").next().unwrap().to_string();
        let manifest = list.split("<manifestUrl>").nth(1).unwrap().split("</manifestUrl>").next().unwrap().to_string();
        assert!(download.starts_with(&s.base), "{download}");

        // Form download: the XForm whose hash the list gave.
        let path = download.trim_start_matches(&s.base).to_string();
        let r = with_digest(&s, reqwest::Method::GET, &path, None, "enumerator").await;
        assert_eq!(r.status(), 200);
        let xform = r.text().await.unwrap();
        assert!(xform.contains("<h:title>Border survey</h:title>"), "{xform}");
        let md5 = format!("md5:{}", hex::encode(Md5::digest(xform.as_bytes())));
        assert!(list.contains(&md5), "the listed hash is the XForm's");

        // Manifest.
        let path = manifest.trim_start_matches(&s.base).to_string();
        let r = with_digest(&s, reqwest::Method::GET, &path, None, "enumerator").await;
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("xformsManifest"));

        // HEAD before submitting.
        let r = with_digest(&s, reqwest::Method::HEAD, "/openrosa/submission", None, "enumerator").await;
        assert_eq!(r.status(), 204);
        assert_eq!(r.headers()["x-openrosa-accept-content-length"], "10485760");

        // A submission with its photo.
        let jpeg = b"\xff\xd8\xff\xe0 not really a photo \xff\xd9".to_vec();
        let xml = submission("uuid:11111111-1111-4111-8111-111111111111", "3", "");
        let r = with_digest(&s, reqwest::Method::POST, "/openrosa/submission", Some(multipart(&xml, Some(&jpeg), false)), "enumerator").await;
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-openrosa-version"], "1.0");
        let body = r.text().await.unwrap();
        assert!(body.contains("<OpenRosaResponse") && body.contains("submit_success"), "{body}");

        // The same again: 202, stored once.
        let r = with_digest(&s, reqwest::Method::POST, "/openrosa/submission", Some(multipart(&xml, Some(&jpeg), false)), "enumerator").await;
        assert_eq!(r.status(), 202);
        // The same instance with other answers: 409.
        let other = submission("uuid:11111111-1111-4111-8111-111111111111", "4", "");
        let r = with_digest(&s, reqwest::Method::POST, "/openrosa/submission", Some(multipart(&other, None, false)), "enumerator").await;
        assert_eq!(r.status(), 409);

        // A split submission: the XML first, marked incomplete, then with the photo.
        let split = submission("uuid:22222222-2222-4222-8222-222222222222", "1", "");
        let r = with_digest(&s, reqwest::Method::POST, "/openrosa/submission", Some(multipart(&split, None, true)), "enumerator").await;
        assert_eq!(r.status(), 201);
        let r = with_digest(&s, reqwest::Method::POST, "/openrosa/submission", Some(multipart(&split, Some(&jpeg), false)), "enumerator").await;
        assert_eq!(r.status(), 201);

        // An edit from the device: a new instance that deprecates the first.
        let edit = submission(
            "uuid:33333333-3333-4333-8333-333333333333",
            "5",
            "<deprecatedID>uuid:11111111-1111-4111-8111-111111111111</deprecatedID>",
        );
        let r = with_digest(&s, reqwest::Method::POST, "/openrosa/submission", Some(multipart(&edit, Some(&jpeg), false)), "enumerator").await;
        assert_eq!(r.status(), 201);

        // What the store holds: two submissions, the first edited once, photos attached.
        let admin = s.token("admin").await;
        let page: Value = client()
            .get(s.url(&format!("/api/v1/forms/{form_id}/submissions")))
            .bearer_auth(&admin)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(page["total"], 2, "{page}");
        let edited = page["items"].as_array().unwrap().iter()
            .find(|i| i["instance_id"] == "uuid:33333333-3333-4333-8333-333333333333").expect("the edit");
        assert_eq!(edited["edits"], 1);
        assert_eq!(edited["data"]["adults"], 5);
        assert_eq!(edited["country_code"], "COL");
        assert_eq!(edited["submitter"], "enumerator");
        let split_row = page["items"].as_array().unwrap().iter()
            .find(|i| i["instance_id"] == "uuid:22222222-2222-4222-8222-222222222222").expect("the split one");
        assert_eq!(split_row["complete"], true);
        let detail: Value = client()
            .get(s.url(&format!("/api/v1/submissions/{}", edited["id"])))
            .bearer_auth(&admin)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(detail["versions"].as_array().unwrap().len(), 1, "{detail}");
        assert_eq!(detail["attachments"][0]["name"], "doc.jpg");
        let photo = client()
            .get(s.url(&format!("/api/v1/submissions/{}/attachments/doc.jpg", edited["id"])))
            .bearer_auth(&admin)
            .send().await.unwrap();
        assert_eq!(photo.status(), 200);
        assert_eq!(photo.bytes().await.unwrap().to_vec(), jpeg);
    }

    async fn device_keys_and_basic_sign_in(s: TestServer) {
        publish_survey(&s).await;
        let token = s.token("enumerator").await;
        // A device key in the path: no password on the phone.
        let r = client().get(s.url(&format!("/openrosa/key/{token}/formList"))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let list = r.text().await.unwrap();
        assert!(list.contains(&format!("{}/openrosa/key/{token}/forms/border/form.xml", s.base)), "{list}");
        let xml = submission("uuid:44444444-4444-4444-8444-444444444444", "2", "");
        let r = client()
            .post(s.url(&format!("/openrosa/key/{token}/submission")))
            .multipart(multipart(&xml, None, false))
            .send().await.unwrap();
        assert_eq!(r.status(), 201);
        let r = client().get(s.url("/openrosa/key/not-a-key/formList")).send().await.unwrap();
        assert_eq!(r.status(), 403);

        // Basic over plain HTTP is refused unless allowed; behind an HTTPS proxy it works.
        let r = client().get(s.url("/openrosa/formList")).basic_auth("enumerator", Some(crate::common::PASSWORD)).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = client()
            .get(s.url("/openrosa/formList"))
            .header("X-Forwarded-Proto", "https")
            .basic_auth("enumerator", Some(crate::common::PASSWORD))
            .send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = client()
            .get(s.url("/openrosa/formList"))
            .header("X-Forwarded-Proto", "https")
            .basic_auth("enumerator", Some("wrong password"))
            .send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers().get_all("www-authenticate").iter().any(|v| v.to_str().unwrap().starts_with("Basic")));
    }

    async fn enumerators_see_only_forms_of_their_countries(s: TestServer) {
        publish(&s, "peru.md", &SURVEY_MD.replace("| border ", "| peru_only ").replace("Border survey", "Peru survey"), "PER").await;
        publish_survey(&s).await;
        let token = s.token("enumerator").await;
        let list = client().get(s.url(&format!("/openrosa/key/{token}/formList"))).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("<formID>border</formID>"));
        assert!(!list.contains("peru_only"), "{list}");
        let r = client().get(s.url(&format!("/openrosa/key/{token}/forms/peru_only/form.xml"))).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let xml = submission("uuid:55555555-5555-4555-8555-555555555555", "2", "").replace("id=\"border\"", "id=\"peru_only\"");
        let r = client()
            .post(s.url(&format!("/openrosa/key/{token}/submission")))
            .multipart(multipart(&xml, None, false))
            .send().await.unwrap();
        assert_eq!(r.status(), 404);
        // A viewer may not submit at all.
        let viewer = s.token("viewer").await;
        let list = client().get(s.url(&format!("/openrosa/key/{viewer}/formList"))).send().await.unwrap().text().await.unwrap();
        assert!(!list.contains("<formID>"), "{list}");
    }

    async fn bad_submissions_get_clear_errors_and_store_nothing(s: TestServer) {
        let form_id = publish_survey(&s).await;
        let token = s.token("enumerator").await;
        let url = s.url(&format!("/openrosa/key/{token}/submission"));
        let post = |form: Form| client().post(&url).multipart(form).send();

        // Malformed XML.
        let r = post(multipart("<data id=\"border\" version=\"2026112701\"><adults>3</data>", None, false)).await.unwrap();
        assert_eq!(r.status(), 400);
        // A DOCTYPE with an entity.
        let evil = "<?xml version=\"1.0\"?><!DOCTYPE data [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><data id=\"border\" version=\"2026112701\"><site>&x;</site></data>";
        let r = post(multipart(evil, None, false)).await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("DOCTYPE"));
        // Unknown form, unknown version.
        let r = post(multipart(&submission("uuid:a", "1", "").replace("id=\"border\"", "id=\"nope\""), None, false)).await.unwrap();
        assert_eq!(r.status(), 404);
        let r = post(multipart(&submission("uuid:a", "1", "").replace("2026112701", "1999"), None, false)).await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("1999"));
        // An invalid value: 400 naming the field.
        let r = post(multipart(&submission("uuid:b", "-4", ""), None, false)).await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("adults"));
        let r = post(multipart(&submission("uuid:b", "many", ""), None, false)).await.unwrap();
        assert_eq!(r.status(), 400);
        // No instance id.
        let r = post(multipart(&submission("", "1", ""), None, false)).await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("instanceID"));
        // Wrong content type, no XML part, a truncated body.
        let r = client().post(&url).header("content-type", "text/xml").body(submission("uuid:c", "1", "")).send().await.unwrap();
        assert_eq!(r.status(), 415);
        let r = post(Form::new().text("something", "else")).await.unwrap();
        assert_eq!(r.status(), 400);
        let cut = "--XyZ\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"s.xml\"\r\n\r\n<data id=\"border\"";
        let r = client().post(&url).header("content-type", "multipart/form-data; boundary=XyZ").body(cut).send().await.unwrap();
        assert_eq!(r.status(), 400);
        // An attachment over the limit: 413.
        let big = vec![0u8; 10 * 1024 * 1024 + 1];
        let r = post(multipart(&submission("uuid:d", "1", ""), Some(&big), false)).await.unwrap();
        assert_eq!(r.status(), 413);
        // A closed form.
        let admin = s.token("admin").await;
        let r = client().put(s.url(&format!("/api/v1/forms/{form_id}"))).bearer_auth(&admin)
            .json(&serde_json::json!({ "open": false })).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = post(multipart(&submission("uuid:e", "1", ""), None, false)).await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("closed"));

        // Nothing of all that was stored.
        let page: Value = client().get(s.url(&format!("/api/v1/forms/{form_id}/submissions"))).bearer_auth(&admin)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(page["total"], 0, "{page}");
    }

    async fn a_submission_built_from_pyxforms_xform_is_accepted(s: TestServer) {
        let Some(python) = std::env::var_os("RUMBO_PYXFORM_PYTHON") else {
            assert!(std::env::var_os("RUMBO_REQUIRE_POSTGRES").is_none(), "CI sets RUMBO_PYXFORM_PYTHON");
            eprintln!("skipped: RUMBO_PYXFORM_PYTHON is not set");
            return;
        };
        publish_survey(&s).await;
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("border.md");
        let out = dir.path().join("border.xml");
        std::fs::write(&md, SURVEY_MD).unwrap();
        let status = std::process::Command::new(python)
            .args(["-m", "pyxform.xls2xform", "--skip_validate"])
            .arg(&md)
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "pyxform converts the form");
        let xform = std::fs::read_to_string(&out).unwrap();
        let doc = rumbo_xlsform::xml::parse(&xform).unwrap();
        // The primary instance: the first child of the first <instance>.
        let instance = find(&doc, "instance").unwrap();
        let mut root = instance.elements().next().unwrap().clone();
        let answers = [
            ("start", "2026-11-27T09:00:00.000-05:00"),
            ("today", "2026-11-27"),
            ("site", "X"),
            ("adults", "2"),
            ("children", "yes"),
            ("kid_count", "1"),
            ("phone", "123"),
            ("instanceID", "uuid:66666666-6666-4666-8666-666666666666"),
        ];
        fill(&mut root, &answers);
        let xml = root.to_document();
        let token = s.token("enumerator").await;
        let r = client()
            .post(s.url(&format!("/openrosa/key/{token}/submission")))
            .multipart(multipart(&xml, None, false))
            .send().await.unwrap();
        let status = r.status();
        assert_eq!(status, 201, "{xml}\n{}", r.text().await.unwrap());
    }
}

fn find<'a>(e: &'a rumbo_xlsform::xml::Element, name: &str) -> Option<&'a rumbo_xlsform::xml::Element> {
    if e.name == name {
        return Some(e);
    }
    e.elements().find_map(|c| find(c, name))
}

fn fill(e: &mut rumbo_xlsform::xml::Element, answers: &[(&str, &str)]) {
    let mut has_children = false;
    for child in &mut e.children {
        if let rumbo_xlsform::xml::Node::Element(c) = child {
            has_children = true;
            fill(c, answers);
        }
    }
    if !has_children && let Some((_, v)) = answers.iter().find(|(k, _)| *k == e.name) {
        e.children = vec![rumbo_xlsform::xml::Node::Text((*v).to_string())];
    }
}

const KEPT_MD: &str = "\
| survey   |            |        |        |                   |           |
|          | type       | name   | label  | constraint        | sensitive |
|          | integer    | adults | Adults | . < 50            |           |
|          | text       | phone  | Phone  | regex(., '^[0-9]+$') | yes    |
| settings |            |        |        |                   |           |
|          | form_id    | version |       |                   |           |
|          | kept       | 1      |        |                   |           |
";

server_tests! {
    async fn forms_may_keep_submissions_with_errors_and_viewers_never_read_sensitive_answers(s: TestServer) {
        let form_id = publish(&s, "kept.md", KEPT_MD, "COL").await;
        let admin = s.token("admin").await;
        let xml = "<data id=\"kept\" version=\"1\"><adults>70</adults><phone>call +57 300</phone>\
                   <meta><instanceID>uuid:77777777-7777-4777-8777-777777777777</instanceID></meta></data>";
        let enumerator = s.token("enumerator").await;
        let url = s.url(&format!("/openrosa/key/{enumerator}/submission"));
        let r = client().post(&url).multipart(multipart(xml, None, false)).send().await.unwrap();
        assert_eq!(r.status(), 400, "refused while the form does not keep errors");
        let r = client().put(s.url(&format!("/api/v1/forms/{form_id}"))).bearer_auth(&admin)
            .json(&serde_json::json!({ "accept_with_errors": true })).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = client().post(&url).multipart(multipart(xml, None, false)).send().await.unwrap();
        assert_eq!(r.status(), 201, "kept, with its errors");

        let list = |token: String, query: &'static str| {
            let url = s.url(&format!("/api/v1/forms/{form_id}/submissions{query}"));
            async move { client().get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let page = list(admin.clone(), "?errors=true").await;
        assert_eq!(page["total"], 1, "{page}");
        let row = &page["items"][0];
        assert_eq!(row["error_count"], 2);
        assert_eq!(row["data"]["phone"], "call +57 300");
        assert!(row["validation_errors"].to_string().contains("phone"));
        assert_eq!(list(admin.clone(), "?errors=false").await["total"], 0);

        let viewer = s.token("viewer").await;
        let page = list(viewer, "").await;
        let row = &page["items"][0];
        assert_eq!(row["data"]["phone"], "(hidden)");
        assert_eq!(row["data"]["adults"], 70);
        let errors = row["validation_errors"].to_string();
        assert!(!errors.contains("+57"), "a problem with a sensitive answer does not quote it: {errors}");
    }
}

/// A Digest `Authorization` answering a fresh challenge for `GET path`.
async fn digest_header(s: &TestServer, path: &str, user: &str, password: &str) -> String {
    let first = client().get(s.url(path)).send().await.unwrap();
    let challenge = first
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("Digest"))
        .expect("a Digest challenge");
    digest_answer(&challenge, "GET", path, user, password)
}

server_tests! {
    async fn digest_answers_are_good_once_and_wrong_ones_lock_the_account(s: TestServer) {
        publish_survey(&s).await;
        s.token("enumerator").await;
        let auth = digest_header(&s, "/openrosa/formList", "enumerator", crate::common::PASSWORD).await;
        let r = client().get(s.url("/openrosa/formList")).header("Authorization", &auth).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = client().get(s.url("/openrosa/formList")).header("Authorization", &auth).send().await.unwrap();
        assert_eq!(r.status(), 401, "the same answer again is a replay");

        // Administrators keep no Digest secret: they use device keys.
        s.token("admin").await;
        let r = with_digest(&s, reqwest::Method::GET, "/openrosa/formList", None, "admin").await;
        assert_eq!(r.status(), 401);

        for _ in 0..5 {
            let wrong = digest_header(&s, "/openrosa/formList", "enumerator", "not the password").await;
            let r = client().get(s.url("/openrosa/formList")).header("Authorization", wrong).send().await.unwrap();
            assert_eq!(r.status(), 401);
        }
        let right = digest_header(&s, "/openrosa/formList", "enumerator", crate::common::PASSWORD).await;
        let r = client().get(s.url("/openrosa/formList")).header("Authorization", right).send().await.unwrap();
        assert_eq!(r.status(), 429, "locked after five wrong answers");
    }

    async fn only_the_submitter_or_a_reviewer_replaces_a_submission(s: TestServer) {
        publish_survey(&s).await;
        let admin = s.token("admin").await;
        let r = client().post(s.url("/api/v1/users")).bearer_auth(&admin).json(&serde_json::json!({
            "username": "enum2", "display_name": "Second enumerator", "role": "enumerator",
            "all_countries": false, "countries": ["COL"], "active": true, "password": crate::common::PASSWORD,
        })).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let first = s.token("enumerator").await;
        let second = s.token("enum2").await;
        let reviewer = s.token("im_col").await;
        let post = |token: String, xml: String| {
            let url = s.url(&format!("/openrosa/key/{token}/submission"));
            async move { client().post(url).multipart(multipart(&xml, None, false)).send().await.unwrap().status() }
        };
        let original = "uuid:88888888-8888-4888-8888-888888888888";
        assert_eq!(post(first.clone(), submission(original, "3", "")).await, 201);
        let edit = |id: &str, adults: &str| {
            submission(id, adults, &format!("<deprecatedID>{original}</deprecatedID>"))
        };
        assert_eq!(post(second, edit("uuid:88888888-8888-4888-8888-000000000001", "9")).await, 403, "another enumerator");
        assert_eq!(post(first, edit("uuid:88888888-8888-4888-8888-000000000002", "4")).await, 201, "the submitter");
        let again = submission(
            "uuid:88888888-8888-4888-8888-000000000003",
            "5",
            "<deprecatedID>uuid:88888888-8888-4888-8888-000000000002</deprecatedID>",
        );
        assert_eq!(post(reviewer, again).await, 201, "a reviewer of its country");
    }
}
