//! The service directory on both engines: writes through the API and the pages, the
//! permission matrix, bad input, search by need, text and place, and the public page.

use reqwest::StatusCode;
use rumbo_store::StoreError;
use serde_json::{Value, json};

use crate::common::{TestServer, client};

/// One degree of a great circle, in km, with the mean Earth radius the store uses.
const DEGREE_KM: f64 = 2.0 * std::f64::consts::PI * 6371.0088 / 360.0;

/// Creates an organisation through the API; its id.
async fn organisation(s: &TestServer, token: &str, name: &str, acronym: &str) -> i64 {
    let r = client()
        .post(s.url("/api/v1/organisations"))
        .bearer_auth(token)
        .json(&json!({ "name": name, "acronym": acronym, "kind": "nngo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A valid service in Colombia, to change field by field.
fn colombian(org: i64, name: &str) -> Value {
    json!({
        "organisation_id": org,
        "name": name,
        "sector": "health",
        "country_code": "COL",
        "admin1_pcode": "CO-NSA",
        "latitude": 7.8939,
        "longitude": -72.5078,
        "address": "Calle 10 # 4-21, Cúcuta",
        "eligibility": "Toda persona migrante; no se pide documento",
        "contact": "WhatsApp +57 300 000 0000",
        "hours": "Lunes a viernes 8:00–17:00",
        "languages": "Español",
    })
}

/// Posts a service; the status and the body.
async fn post(s: &TestServer, token: &str, body: &Value) -> (StatusCode, Value) {
    let r = client().post(s.url("/api/v1/services")).bearer_auth(token).json(body).send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn get(s: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let r = client().get(s.url(path)).bearer_auth(token).send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Creates a service and returns its id.
async fn created(s: &TestServer, token: &str, body: &Value) -> i64 {
    let (status, body) = post(s, token, body).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

async fn total(s: &TestServer, token: &str) -> i64 {
    get(s, token, "/api/v1/services").await.1["total"].as_i64().unwrap()
}

/// The names of a list's services, in order.
fn names(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
}

crate::server_tests! {
    async fn services_are_created_changed_deactivated_and_reactivated_through_the_api(s: TestServer) {
        let admin = s.token("admin").await;
        let im = s.token("im_col").await;
        let org = organisation(&s, &admin, "Cruz Roja Colombiana", "CRC").await;
        let (status, body) = post(&s, &im, &colombian(org, "Punto de salud Cúcuta")).await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_i64().unwrap();
        assert_eq!(body["organisation_name"], "Cruz Roja Colombiana");
        assert_eq!(body["organisation_acronym"], "CRC");
        assert_eq!(body["admin1_name"], "Norte de Santander");
        assert_eq!(body["public"], true);
        assert_eq!(body["active"], true);

        let viewer = s.token("viewer").await;
        let (status, body) = get(&s, &viewer, &format!("/api/v1/services/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(body["sector"], "health");

        let mut changed = colombian(org, "Punto de salud Cúcuta (centro)");
        changed["hours"] = json!("Todos los días 7:00–19:00");
        changed["public"] = json!(false);
        let r = client().put(s.url(&format!("/api/v1/services/{id}"))).bearer_auth(&im).json(&changed).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["name"], "Punto de salud Cúcuta (centro)");
        assert_eq!(body["hours"], "Todos los días 7:00–19:00");
        assert_eq!(body["public"], false);

        // A service cannot move to another country.
        let mut moved = changed.clone();
        moved["country_code"] = json!("PER");
        moved["admin1_pcode"] = json!("PE-LIM");
        let r = client().put(s.url(&format!("/api/v1/services/{id}"))).bearer_auth(&admin).json(&moved).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["field"], "country_code");

        // Delete deactivates: the service stays, closed, and comes back.
        let r = client().delete(s.url(&format!("/api/v1/services/{id}"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["active"], false);
        assert_eq!(get(&s, &im, "/api/v1/services?active=true").await.1["total"], 0);
        assert_eq!(get(&s, &im, "/api/v1/services").await.1["total"], 1);
        let r = client().post(s.url(&format!("/api/v1/services/{id}/reactivate"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(get(&s, &im, "/api/v1/services?active=true").await.1["total"], 1);

        // Referrals rely on the store saying "not found" for an unknown service.
        assert!(matches!(s.db.service(id + 1000).await, Err(StoreError::NotFound { entity: "service" })));
        assert_eq!(get(&s, &im, &format!("/api/v1/services/{}", id + 1000)).await.0, 404);

        // The routes are in the OpenAPI document.
        let doc: Value = client().get(s.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        for path in ["/api/v1/services", "/api/v1/services/{id}", "/api/v1/services/{id}/reactivate", "/api/v1/public/services"] {
            assert!(doc["paths"][path].is_object(), "{path} documented");
        }
        assert!(doc["components"]["schemas"]["ServiceInput"].is_object());

        // Every write is in the audit log.
        let (_, audit) = get(&s, &admin, "/api/v1/audit?limit=1000&entity=service").await;
        let lines = audit["items"].as_array().or(audit.as_array()).unwrap().iter()
            .filter(|l| l["entity"] == "service")
            .map(|l| l["action"].as_str().unwrap().to_string())
            .collect::<Vec<_>>();
        for action in ["create", "update", "deactivate", "reactivate"] {
            assert!(lines.iter().any(|a| a == action), "{action} in {lines:?}");
        }
    }

    async fn another_countrys_officer_and_roles_without_the_right_are_refused(s: TestServer) {
        let admin = s.token("admin").await;
        let org = organisation(&s, &admin, "Encuentros", "ENC").await;
        let mut peruvian = colombian(org, "Orientación legal Lima");
        peruvian["country_code"] = json!("PER");
        peruvian["admin1_pcode"] = json!("PE-LIM");
        peruvian["sector"] = json!("legal");
        let id = created(&s, &admin, &peruvian).await;
        let before = get(&s, &admin, &format!("/api/v1/services/{id}")).await.1;

        let im = s.token("im_col").await;
        let (status, body) = post(&s, &im, &peruvian).await;
        assert_eq!(status, 403, "{body}");
        let mut changed = peruvian.clone();
        changed["name"] = json!("Taken over");
        let r = client().put(s.url(&format!("/api/v1/services/{id}"))).bearer_auth(&im).json(&changed).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = client().delete(s.url(&format!("/api/v1/services/{id}"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(get(&s, &im, &format!("/api/v1/services/{id}")).await.0, 403);
        assert_eq!(get(&s, &im, "/api/v1/services?country=PER").await.0, 403);
        assert_eq!(get(&s, &im, "/api/v1/services").await.1["total"], 0, "another country's services are out of scope");

        // An enumerator reads the directory of her country but does not edit it.
        let enumerator = s.token("enumerator").await;
        let (status, _) = post(&s, &enumerator, &colombian(org, "Not allowed")).await;
        assert_eq!(status, 403);

        // A page post is refused the same way.
        let (browser, csrf) = s.signed_in("im_col").await;
        let r = browser
            .post(s.url(&format!("/services/{id}/deactivate")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        let after = get(&s, &admin, &format!("/api/v1/services/{id}")).await.1;
        assert_eq!(before, after, "nothing changed");
        assert_eq!(total(&s, &admin).await, 1);
    }

    async fn bad_input_is_a_422_naming_the_field_and_nothing_is_stored(s: TestServer) {
        let admin = s.token("admin").await;
        let org = organisation(&s, &admin, "Halü", "HALU").await;
        let site: i64 = get(&s, &admin, "/api/v1/sites?country=PER").await.1["items"][0]["id"].as_i64().unwrap();
        let cases: Vec<(&str, Value, &str)> = vec![
            ("sector", json!("food"), "sector"),
            ("organisation_id", json!(9999), "organisation_id"),
            ("admin1_pcode", json!("PE-LIM"), "admin1_pcode"),
            ("admin1_pcode", json!("XX-NOPE"), "admin1_pcode"),
            ("latitude", json!(95), "latitude"),
            ("latitude", json!("seven"), "latitude"),
            ("longitude", json!(-200), "longitude"),
            ("site_id", json!(site), "site_id"),
            ("country_code", json!("ZZZ"), "country_code"),
            ("name", json!("  "), "name"),
        ];
        for (key, value, field) in cases {
            let mut body = colombian(org, "Bad");
            body[key] = value.clone();
            let (status, answer) = post(&s, &admin, &body).await;
            assert_eq!(status, 422, "{key} = {value}: {answer}");
            assert_eq!(answer["code"], "invalid");
            assert_eq!(answer["field"], field, "{key} = {value}: {answer}");
            assert!(answer["errors"].as_array().unwrap().iter().any(|e| e["field"] == field && e["message"].as_str().is_some_and(|m| !m.is_empty())));
        }
        // Latitude without longitude.
        let mut body = colombian(org, "Half a point");
        body.as_object_mut().unwrap().remove("longitude");
        let (status, answer) = post(&s, &admin, &body).await;
        assert_eq!(status, 422);
        assert_eq!(answer["field"], "longitude");
        assert_eq!(total(&s, &admin).await, 0, "nothing was stored");

        // A bad update leaves the service as it was.
        let id = created(&s, &admin, &colombian(org, "Good")).await;
        let mut bad = colombian(org, "Changed");
        bad["latitude"] = json!(95);
        let r = client().put(s.url(&format!("/api/v1/services/{id}"))).bearer_auth(&admin).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(get(&s, &admin, &format!("/api/v1/services/{id}")).await.1["name"], "Good");

        // Search parameters are checked too.
        for (query, field) in [
            ("lat=abc&lon=-72", "lat"),
            ("lat=7", "lon"),
            ("lat=7&lon=-272", "lon"),
            ("sector=food", "sector"),
            ("sector=health,food", "sector"),
            ("lat=7&lon=-72&radius_km=-5", "radius_km"),
            ("organisation=crc", "organisation"),
            ("active=maybe", "active"),
            ("limit=ten", "limit"),
            ("country=colombia", "country"),
        ] {
            let (status, answer) = get(&s, &admin, &format!("/api/v1/services?{query}")).await;
            assert_eq!(status, 422, "{query}: {answer}");
            assert_eq!(answer["field"], field, "{query}: {answer}");
        }
        let r = client().get(s.url("/api/v1/public/services?lat=north&lon=1")).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["field"], "lat");
    }

    async fn services_are_found_by_sector_text_and_organisation(s: TestServer) {
        let admin = s.token("admin").await;
        let crc = organisation(&s, &admin, "Cruz Roja Colombiana", "CRC").await;
        let nrc = organisation(&s, &admin, "Consejo Noruego", "NRC").await;
        let mut legal = colombian(nrc, "Orientación legal");
        legal["sector"] = json!("legal");
        legal["eligibility"] = json!("Solicitantes de asilo y refugiados");
        legal["address"] = json!("Avenida 0, Villa del Rosario");
        created(&s, &admin, &legal).await;
        created(&s, &admin, &colombian(crc, "Punto de salud")).await;
        let mut gbv = colombian(crc, "Atención VBG");
        gbv["sector"] = json!("gbv");
        gbv["address"] = json!("Pamplona");
        created(&s, &admin, &gbv).await;

        assert_eq!(names(&get(&s, &admin, "/api/v1/services?sector=legal").await.1), ["Orientación legal"]);
        let both = get(&s, &admin, "/api/v1/services?sector=legal,health").await.1;
        assert_eq!(both["total"], 2);
        // Text is matched without accents or case: name, eligibility, address, organisation.
        assert_eq!(names(&get(&s, &admin, "/api/v1/services?q=ORIENTACION").await.1), ["Orientación legal"]);
        assert_eq!(names(&get(&s, &admin, "/api/v1/services?q=asilo").await.1), ["Orientación legal"]);
        assert_eq!(get(&s, &admin, "/api/v1/services?q=cucuta").await.1["total"], 1, "the address of the health point");
        assert_eq!(get(&s, &admin, "/api/v1/services?q=cruz%20roja").await.1["total"], 2);
        assert_eq!(get(&s, &admin, "/api/v1/services?q=50%25").await.1["total"], 0);
        assert_eq!(get(&s, &admin, &format!("/api/v1/services?organisation={nrc}")).await.1["total"], 1);
        assert_eq!(get(&s, &admin, "/api/v1/services?admin1=CO-NSA&country=COL").await.1["total"], 3);
        assert_eq!(get(&s, &admin, "/api/v1/services?country=PER").await.1["total"], 0);
        assert_eq!(get(&s, &admin, "/api/v1/services?sector=legal&q=salud").await.1["total"], 0);
    }

    async fn services_near_a_point_come_nearest_first_with_their_distances(s: TestServer) {
        let admin = s.token("admin").await;
        let org = organisation(&s, &admin, "Aldeas", "ALD").await;
        // On the equator at longitude -75, a tenth of a degree is DEGREE_KM / 10.
        for (name, lat, lon) in [("A", 0.0, -74.9), ("B", 0.0, -74.95), ("C", 0.2, -75.0)] {
            let mut body = colombian(org, name);
            body["admin1_pcode"] = Value::Null;
            body["latitude"] = json!(lat);
            body["longitude"] = json!(lon);
            created(&s, &admin, &body).await;
        }
        let mut nowhere = colombian(org, "D");
        nowhere.as_object_mut().unwrap().remove("latitude");
        nowhere.as_object_mut().unwrap().remove("longitude");
        created(&s, &admin, &nowhere).await;

        let page = get(&s, &admin, "/api/v1/services?lat=0&lon=-75").await.1;
        assert_eq!(names(&page), ["B", "A", "C", "D"], "nearest first, without coordinates last");
        let distances: Vec<Option<f64>> = page["items"].as_array().unwrap().iter().map(|i| i["distance_km"].as_f64()).collect();
        let expected = [DEGREE_KM * 0.05, DEGREE_KM * 0.1, DEGREE_KM * 0.2];
        for (got, want) in distances.iter().zip(expected) {
            assert!((got.unwrap() - want).abs() < 1e-3, "{got:?} km, expected {want} km");
        }
        assert!((distances[0].unwrap() - 5.5598).abs() < 1e-3, "5.56 km by hand");
        assert_eq!(distances[3], None);

        let within = get(&s, &admin, "/api/v1/services?lat=0&lon=-75&radius_km=15").await.1;
        assert_eq!(names(&within), ["B", "A"]);
        assert_eq!(within["total"], 2);
        let first = get(&s, &admin, "/api/v1/services?lat=0&lon=-75&limit=1&offset=1").await.1;
        assert_eq!(names(&first), ["A"]);
        assert_eq!(first["total"], 4);
    }

    async fn the_public_page_lists_public_open_services_nearest_first_in_the_readers_language(s: TestServer) {
        let admin = s.token("admin").await;
        let org = organisation(&s, &admin, "Fundación <b>Ayuda</b>", "FA").await;
        let place = |name: &str, lat: f64, lon: f64, sector: &str| {
            let mut body = colombian(org, name);
            body["admin1_pcode"] = Value::Null;
            body["latitude"] = json!(lat);
            body["longitude"] = json!(lon);
            body["sector"] = json!(sector);
            body
        };
        created(&s, &admin, &place("Far shelter", 0.3, -75.0, "shelter")).await;
        created(&s, &admin, &place("Near clinic", 0.0, -74.99, "health")).await;
        let mut hidden = place("Confidential safe house", 0.0, -75.0, "gbv");
        hidden["public"] = json!(false);
        created(&s, &admin, &hidden).await;
        let closed = created(&s, &admin, &place("Closed office", 0.0, -75.001, "legal")).await;
        client().delete(s.url(&format!("/api/v1/services/{closed}"))).bearer_auth(&admin).send().await.unwrap();
        created(&s, &admin, &place("<script>alert(1)</script>", 0.1, -75.0, "cash")).await;

        let r = client().get(s.url("/public/services?country=COL&lat=0&lon=-75&lang=es")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Servicios cerca de usted"), "Spanish title");
        assert!(html.contains("Salud") && html.contains("Alojamiento"), "sector names in Spanish");
        let near = html.find("Near clinic").expect("public and open");
        let far = html.find("Far shelter").expect("public and open");
        assert!(near < far, "nearest first");
        assert!(html.contains("1.1 km"), "the clinic is 0.01° (1.1 km) away");
        assert!(!html.contains("Confidential safe house"), "not public");
        assert!(!html.contains("Closed office"), "deactivated");
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;") && !html.contains("<script>alert"), "escaped");
        assert!(html.contains("Fundación &#60;b&#62;Ayuda&#60;/b&#62;") && !html.contains("<b>Ayuda"), "escaped");
        assert!(html.contains("src=\"/static/services.js\""));
        assert!(!html.contains("<script>\n") && !html.contains("onclick"), "no inline script");

        // The same in English, and the script it loads.
        let html = client().get(s.url("/public/services?country=COL&lang=en")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Services near you") && html.contains("Near clinic"));
        let js = client().get(s.url("/static/services.js")).send().await.unwrap();
        assert_eq!(js.status(), 200);
        assert!(js.text().await.unwrap().contains("getCurrentPosition"));

        // Nothing is listed before a country or a point is chosen; bad input is named.
        let html = client().get(s.url("/public/services?lang=es")).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("Near clinic"));
        let r = client().get(s.url("/public/services?country=COL&lat=95&lon=0&lang=es")).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("Latitud"));

        // The public API gives the same services.
        let r = client().get(s.url("/api/v1/public/services?country=COL&lat=0&lon=-75")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.unwrap();
        assert_eq!(names(&page), ["Near clinic", "<script>alert(1)</script>", "Far shelter"]);

        // The public figures page and the sign-in page link to it.
        let html = client().get(s.url("/login")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("href=\"/public/services\""));
    }

    async fn the_pages_create_list_download_and_deactivate_services(s: TestServer) {
        let admin = s.token("admin").await;
        let org = organisation(&s, &admin, "Cruz Roja Colombiana", "CRC").await;
        let (browser, csrf) = s.signed_in("im_col").await;
        let page = browser.get(s.url("/services/new?country=COL")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("name=\"sector\"") && html.contains("CO-NSA"));
        assert!(!html.contains("PE-LIM"), "only the areas of countries she may edit");
        let org_id = org.to_string();
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("country_code", "COL"),
            ("organisation_id", org_id.as_str()),
            ("name", "Espacio amigable <niñez>"),
            ("sector", "child_protection"),
            ("admin1_pcode", "CO-NSA"),
            ("site_id", ""),
            ("latitude", "abc"),
            ("longitude", "-72,5"),
            ("public", "true"),
            ("active", "true"),
        ];
        let r = browser.post(s.url("/services")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("field-error") && html.contains("is not a number"), "the error next to the latitude");
        assert_eq!(total(&s, &admin).await, 0);

        form[7] = ("latitude", "7,89");
        let r = browser.post(s.url("/services")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/services?country=COL"));
        let page = get(&s, &admin, "/api/v1/services").await.1;
        assert_eq!(page["total"], 1);
        let service = &page["items"][0];
        assert_eq!(service["latitude"], 7.89);
        assert_eq!(service["longitude"], -72.5);
        assert_eq!(service["sector"], "child_protection");
        let id = service["id"].as_i64().unwrap();

        let html = browser.get(s.url("/services?country=COL&sector=child_protection")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Espacio amigable &#60;niñez&#62;"), "listed, escaped: {html}");
        assert!(html.contains(&format!("/services/{id}/edit")));
        let csv = browser.get(s.url("/services?country=COL&format=csv")).send().await.unwrap();
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = csv.text().await.unwrap();
        assert!(csv.lines().count() == 2 && csv.contains("Espacio amigable <niñez>"), "{csv}");

        let html = browser.get(s.url(&format!("/services/{id}/edit"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("/services/{id}/deactivate")));
        let r = browser.post(s.url(&format!("/services/{id}/deactivate"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(get(&s, &admin, &format!("/api/v1/services/{id}")).await.1["active"], false);
        let html = browser.get(s.url("/services?country=COL")).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("Espacio amigable"), "the list shows open services unless asked");
        let html = browser.get(s.url("/services?country=COL&active=all")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Espacio amigable"));
        let r = browser.post(s.url(&format!("/services/{id}/reactivate"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(get(&s, &admin, &format!("/api/v1/services/{id}")).await.1["active"], true);

        // Without the CSRF token nothing happens.
        let r = browser.post(s.url(&format!("/services/{id}/deactivate"))).form(&[("csrf", "wrong")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(get(&s, &admin, &format!("/api/v1/services/{id}")).await.1["active"], true);

        // The navigation links to the directory.
        let home = browser.get(s.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(home.contains("href=\"/services\""));
    }
}

rumbo_store::engine_tests! {
    async fn the_demo_directory_covers_every_country_and_the_referral_sectors(db: TestDb) {
        use rumbo_store::services::{Sector, ServiceFilter};
        rumbo_domain::demo::seed(&db.store, "demo-password-1").await.expect("the demo fills an empty store");
        let countries = db.list_countries().await.unwrap();
        for country in &countries {
            for sector in [Sector::ChildProtection, Sector::Gbv, Sector::Health, Sector::Legal, Sector::Shelter] {
                let filter = ServiceFilter {
                    country: Some(country.code.clone()),
                    sectors: vec![sector],
                    active: Some(true),
                    ..Default::default()
                };
                let found = db.search_services(&filter).await.unwrap();
                assert!(found.total >= 2, "{} has {} open {sector} services", country.code, found.total);
            }
            let all = ServiceFilter { country: Some(country.code.clone()), ..Default::default() };
            let services = db.search_services(&all).await.unwrap().items;
            let sectors: std::collections::HashSet<Sector> = services.iter().map(|s| s.sector).collect();
            assert_eq!(sectors.len(), 8, "{} has every sector", country.code);
            assert!(services.iter().all(|s| s.admin1_pcode.is_some()), "{}: every service in an admin-1 area", country.code);
        }
        let all = db.search_services(&ServiceFilter { limit: Some(10_000), ..Default::default() }).await.unwrap().items;
        assert!(all.iter().any(|s| !s.public) && all.iter().any(|s| !s.active), "some hidden, some closed");

        // Near the Simón Bolívar bridge, Cúcuta's services come first.
        let s = TestServer::start(db).await;
        let r = client().get(s.url("/public/services?country=COL&sector=health&lat=7.8196&lon=-72.4528&lang=es")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Punto de atención en salud CRC – Cúcuta"), "{html}");
        assert_eq!(s.db.verify_audit_chain().await.unwrap().first_broken, None);
    }
}
