//! The JSON API, as a client sees it, on both engines.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{LIM, NSA, client};

const FILE: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"pcode":"CO54001","name":"Cúcuta","parent_pcode":"CO-NSA"},"geometry":{"type":"Polygon","coordinates":[[[-72.6,7.8],[-72.4,7.8],[-72.4,8.0],[-72.6,8.0],[-72.6,7.8]]]}},
 {"type":"Feature","properties":{"pcode":"CO54874","name":"Villa del Rosario","parent_pcode":"CO-NSA"},"geometry":{"type":"Polygon","coordinates":[[[-72.5,7.7],[-72.4,7.7],[-72.4,7.8],[-72.5,7.8],[-72.5,7.7]]]}}]}"#;

async fn body(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

fn site(country: &str, code: &str) -> Value {
    json!({ "country_code": country, "code": code, "name": "Puente Simón Bolívar", "kind": "border_crossing", "latitude": 7.82, "longitude": -72.45 })
}

crate::server_tests! {
    async fn health_and_the_openapi_document(s: TestServer) {
        let r = client().get(s.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let doc = body(client().get(s.url("/api/v1/openapi.json")).send().await.unwrap()).await;
        assert_eq!(doc["info"]["title"], "Rumbo API");
        for path in ["/api/v1/auth/token", "/api/v1/sites", "/api/v1/admin-areas/import", "/api/v1/users/{id}"] {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        let missing = client().get(s.url("/api/v1/nothing-here")).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(body(missing).await["code"], "not_found");
        let page = client().get(s.url("/nothing-here")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert!(page.text().await.unwrap().contains("Not found"));
    }

    async fn tokens_are_issued_for_the_right_password_only(s: TestServer) {
        let c = client();
        let wrong = c.post(s.url("/api/v1/auth/token")).json(&json!({"username": "admin", "password": "nope"})).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body(wrong).await["code"], "bad_credentials");
        let missing = c.post(s.url("/api/v1/auth/token")).json(&json!({"username": "admin"})).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body(missing).await["field"], "password");
        let garbled = c.post(s.url("/api/v1/auth/token")).body("{username:").send().await.unwrap();
        assert_eq!(garbled.status(), StatusCode::BAD_REQUEST);

        let token = s.token("admin").await;
        let me = body(c.get(s.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap()).await;
        assert_eq!(me["username"], "admin");
        assert!(me.get("password_hash").is_none());
        let anonymous = c.get(s.url("/api/v1/sites")).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body(anonymous).await["code"], "unauthorized");
        let forged = c.get(s.url("/api/v1/sites")).bearer_auth("rumbo_0000").send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

        let listed = body(c.get(s.url("/api/v1/tokens")).bearer_auth(&token).send().await.unwrap()).await;
        let id = listed[0]["id"].as_i64().unwrap();
        assert_eq!(c.delete(s.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&token).send().await.unwrap().status(), 204);
        assert_eq!(c.get(s.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(), 401, "a revoked token no longer works");
    }

    async fn repeated_failures_lock_the_account(s: TestServer) {
        let c = client();
        let attempt = |password: &'static str| {
            c.post(s.url("/api/v1/auth/token")).json(&json!({"username": "viewer", "password": password})).send()
        };
        for _ in 0..4 {
            assert_eq!(attempt("guess").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        }
        let fifth = attempt("guess").await.unwrap();
        assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body(fifth).await["code"], "locked");
        let right = attempt(crate::common::PASSWORD).await.unwrap();
        assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits for the lock to end");
        let unknown = c.post(s.url("/api/v1/auth/token")).json(&json!({"username": "nobody", "password": "x"})).send().await.unwrap();
        assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(s.token("admin").await.len(), 70, "other accounts are not affected");
    }

    async fn boundaries_import_all_or_nothing_with_clear_errors(s: TestServer) {
        let c = client();
        let im = s.token("im_col").await;
        let import = |q: &'static str, text: String| {
            let c = c.clone();
            let url = s.url(&format!("/api/v1/admin-areas/import?{q}"));
            let im = im.clone();
            async move { c.post(url).bearer_auth(im).body(text).send().await.unwrap() }
        };
        let count = || async { body(client().get(s.url("/api/v1/admin-areas?country=COL")).bearer_auth(&im).send().await.unwrap()).await["total"].as_i64().unwrap() };

        let malformed = import("country=COL&level=2", "{\"type\": \"FeatureCollection\", \"features\": [".into()).await;
        assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e = body(malformed).await;
        assert_eq!(e["field"], "file");
        assert!(e["message"].as_str().unwrap().contains("not valid GeoJSON"), "{e}");

        let duplicated = import("country=COL&level=2", FILE.replace("CO54874", "CO54001")).await;
        assert_eq!(duplicated.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e = body(duplicated).await;
        assert!(e["message"].as_str().unwrap().contains("p-code CO54001 is used again"), "{e}");
        assert_eq!(e["errors"][0]["field"], "features[1].properties");

        let orphan = import("country=COL&level=2", FILE.replace("\"CO-NSA\"}", "\"CO-XXX\"}")).await;
        assert_eq!(orphan.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body(orphan).await["field"], "parent_pcode");
        assert_eq!(count().await, 1, "refused files leave the store as it was");

        let ok = import("country=COL&level=2", FILE.to_string()).await;
        assert_eq!(ok.status(), StatusCode::CREATED);
        assert_eq!(body(ok).await["created"], 2);
        assert_eq!(count().await, 3);

        let again = import("country=COL&level=2", FILE.to_string()).await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        assert_eq!(body(again).await["field"], "pcode");
        let replaced = import("country=COL&level=2&replace=true", FILE.replace("Cúcuta", "San José de Cúcuta")).await;
        assert_eq!(body(replaced).await["updated"], 2);

        let foreign = import("country=PER&level=1", FILE.replace("CO54", "PE15").replace(",\"parent_pcode\":\"CO-NSA\"", "")).await;
        assert_eq!(foreign.status(), StatusCode::FORBIDDEN, "an IM officer of Colombia cannot import Peru");
        let viewer = s.token("viewer").await;
        let r = c.post(s.url("/api/v1/admin-areas/import?country=COL&level=2")).bearer_auth(viewer).body(FILE).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(count().await, 3);
    }

    async fn admin_areas_reject_duplicates_orphans_and_bad_geometry(s: TestServer) {
        let c = client();
        let token = s.token("im_col").await;
        let post = |v: Value| c.post(s.url("/api/v1/admin-areas")).bearer_auth(&token).json(&v).send();
        let dup = post(json!({"country_code": "COL", "pcode": "CO-NSA", "level": 1, "name_en": "Again"})).await.unwrap();
        assert_eq!(dup.status(), StatusCode::CONFLICT);
        assert_eq!(body(dup).await["field"], "pcode");
        let orphan = post(json!({"country_code": "COL", "pcode": "CO54001", "level": 2, "parent_pcode": "CO-ZZZ", "name_en": "Cúcuta"})).await.unwrap();
        assert_eq!(orphan.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e = body(orphan).await;
        assert_eq!(e["field"], "parent_pcode");
        assert!(e["message"].as_str().unwrap().contains("no admin area has p-code CO-ZZZ"));
        let line = post(json!({"country_code": "COL", "pcode": "CO-ANT", "level": 1, "name_en": "Antioquia", "geometry": "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}"})).await.unwrap();
        assert_eq!(line.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body(line).await["field"], "geometry");
        let ok = post(json!({"country_code": "COL", "pcode": "CO54001", "level": 2, "parent_pcode": "CO-NSA", "name_en": "Cúcuta"})).await.unwrap();
        assert_eq!(ok.status(), StatusCode::CREATED);
        let created = body(ok).await;
        assert_eq!(created["name_es"], "Cúcuta");
        let nsa = body(c.get(s.url("/api/v1/admin-areas?country=COL&level=1")).bearer_auth(&token).send().await.unwrap()).await;
        let nsa_id = nsa["items"][0]["id"].as_i64().unwrap();
        let r = c.delete(s.url(&format!("/api/v1/admin-areas/{nsa_id}"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "an area with sub-areas cannot be deleted");
        let geometry = c.get(s.url(&format!("/api/v1/admin-areas/{nsa_id}/geometry"))).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
        assert_eq!(geometry, NSA);
    }

    async fn roles_and_countries_are_enforced(s: TestServer) {
        let c = client();
        let im = s.token("im_col").await;
        let admin = s.token("admin").await;
        let per_site = body(c.get(s.url("/api/v1/sites?country=PER")).bearer_auth(&admin).send().await.unwrap()).await["items"][0].clone();
        let per_id = per_site["id"].as_i64().unwrap();

        let r = c.post(s.url("/api/v1/sites")).bearer_auth(&im).json(&site("PER", "PER-FMP-002")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let e = body(r).await;
        assert!(e["message"].as_str().unwrap().contains("in PER"), "{e}");
        let mut moved = per_site.clone();
        moved["name"] = json!("Hijacked");
        let r = c.put(s.url(&format!("/api/v1/sites/{per_id}"))).bearer_auth(&im).json(&moved).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "a user of Colombia cannot edit Peru");
        let r = c.put(s.url(&format!("/api/v1/sites/{per_id}"))).bearer_auth(&admin).json(&json!({"country_code": "COL", "code": "X", "name": "x", "kind": "airport", "latitude": 1, "longitude": 1})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a site cannot move country");
        let unchanged = body(c.get(s.url(&format!("/api/v1/sites/{per_id}"))).bearer_auth(&admin).send().await.unwrap()).await;
        assert_eq!(unchanged["name"], "Terminal Plaza Norte");
        assert_eq!(c.get(s.url("/api/v1/sites?country=PER")).bearer_auth(&im).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        assert_eq!(c.get(s.url(&format!("/api/v1/sites/{per_id}"))).bearer_auth(&im).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let mine = body(c.get(s.url("/api/v1/sites")).bearer_auth(&im).send().await.unwrap()).await;
        assert_eq!(mine["total"], 0, "lists hold only the caller's countries");
        let countries = body(c.get(s.url("/api/v1/countries")).bearer_auth(&im).send().await.unwrap()).await;
        assert_eq!(countries.as_array().unwrap().len(), 1);

        for user in ["viewer", "enumerator"] {
            let t = s.token(user).await;
            let r = c.post(s.url("/api/v1/sites")).bearer_auth(&t).json(&site("COL", "COL-FMP-050")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} cannot create sites");
            let r = c.post(s.url("/api/v1/organisations")).bearer_auth(&t).json(&json!({"name": "X", "kind": "ingo"})).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} cannot create organisations");
        }
        let r = c.put(s.url("/api/v1/countries/BRA")).bearer_auth(&im).json(&json!({"code": "BRA", "iso2": "BR", "name_en": "Brazil", "name_es": "Brasil", "name_pt": "Brasil"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(c.get(s.url("/api/v1/audit")).bearer_auth(&im).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let check = body(c.get(s.url("/api/v1/audit/verify")).bearer_auth(&admin).send().await.unwrap()).await;
        assert!(check["first_broken"].is_null());
    }

    async fn sites_validate_every_field_and_find_their_area(s: TestServer) {
        let c = client();
        let t = s.token("im_col").await;
        let post = |v: Value| c.post(s.url("/api/v1/sites")).bearer_auth(&t).json(&v).send();
        let mut bad = site("COL", "COL-FMP-001");
        bad["latitude"] = json!("seven");
        let r = post(bad).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body(r).await["field"], "latitude");
        let mut bad = site("COL", "COL-FMP-001");
        bad["kind"] = json!("harbour");
        assert_eq!(body(post(bad).await.unwrap()).await["field"], "kind");
        let mut bad = site("COL", "COL-FMP-001");
        bad.as_object_mut().unwrap().remove("name");
        assert_eq!(body(post(bad).await.unwrap()).await["field"], "name");
        let mut bad = site("COL", "COL-FMP-001");
        bad["longitude"] = json!(-272.0);
        bad["name"] = json!("  ");
        let e = body(post(bad).await.unwrap()).await;
        let fields: Vec<&str> = e["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "longitude"], "every problem is reported at once");

        let r = post(site("COL", "COL-FMP-001")).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let created = body(r).await;
        assert_eq!(created["admin_area_pcode"], "CO-NSA", "the area is found from the coordinates");
        let dup = post(site("COL", "COL-FMP-001")).await.unwrap();
        assert_eq!(dup.status(), StatusCode::CONFLICT);
        assert_eq!(body(dup).await["field"], "code");
        let svg = c.get(s.url("/api/v1/countries/COL/map.svg?lang=es")).bearer_auth(&t).send().await.unwrap();
        assert_eq!(svg.headers()["content-type"], "image/svg+xml; charset=utf-8");
        let svg = svg.text().await.unwrap();
        assert_eq!(svg.matches("<path class=\"area\"").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("Puente Simón Bolívar"));
    }

    async fn deletions_can_be_undone(s: TestServer) {
        let c = client();
        let im = s.token("im_col").await;
        let admin = s.token("admin").await;
        let created = body(c.post(s.url("/api/v1/sites")).bearer_auth(&im).json(&site("COL", "COL-FMP-007")).send().await.unwrap()).await;
        let id = created["id"].as_i64().unwrap();
        let r = c.delete(s.url(&format!("/api/v1/sites/{id}"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let line: i64 = r.headers()["x-undo-line"].to_str().unwrap().parse().unwrap();
        assert_eq!(c.get(s.url(&format!("/api/v1/sites/{id}"))).bearer_auth(&im).send().await.unwrap().status(), StatusCode::NOT_FOUND);

        let undone = c.post(s.url(&format!("/api/v1/undo/{line}"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(undone.status(), StatusCode::CREATED);
        let restored = body(undone).await;
        assert_eq!(restored["entity"], "site");
        let back = body(c.get(s.url(&format!("/api/v1/sites/{}", restored["id"]))).bearer_auth(&im).send().await.unwrap()).await;
        assert_eq!((back["code"].clone(), back["name"].clone(), back["admin_area_pcode"].clone()), (created["code"].clone(), created["name"].clone(), created["admin_area_pcode"].clone()));
        let twice = c.post(s.url(&format!("/api/v1/undo/{line}"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(twice.status(), StatusCode::CONFLICT, "an undone deletion cannot be undone again");

        let nsa = body(c.get(s.url("/api/v1/admin-areas?country=PER")).bearer_auth(&admin).send().await.unwrap()).await["items"][0]["id"].as_i64().unwrap();
        let per_site = body(c.get(s.url("/api/v1/sites?country=PER")).bearer_auth(&admin).send().await.unwrap()).await["items"][0]["id"].as_i64().unwrap();
        let r = c.delete(s.url(&format!("/api/v1/sites/{per_site}"))).bearer_auth(&admin).send().await.unwrap();
        let per_line: i64 = r.headers()["x-undo-line"].to_str().unwrap().parse().unwrap();
        let r = c.post(s.url(&format!("/api/v1/undo/{per_line}"))).bearer_auth(&im).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "a Colombia user cannot bring back a Peru site");
        let r = c.delete(s.url(&format!("/api/v1/admin-areas/{nsa}"))).bearer_auth(&admin).send().await.unwrap();
        let area_line: i64 = r.headers()["x-undo-line"].to_str().unwrap().parse().unwrap();
        let restored = body(c.post(s.url(&format!("/api/v1/undo/{area_line}"))).bearer_auth(&admin).send().await.unwrap()).await;
        assert_eq!(restored["entity"], "admin_area");
        let geometry = c.get(s.url(&format!("/api/v1/admin-areas/{}/geometry", restored["id"]))).bearer_auth(&admin).send().await.unwrap().text().await.unwrap();
        assert_eq!(geometry, LIM, "the boundary comes back too");

        let not_a_deletion = c.post(s.url(&format!("/api/v1/undo/{}", line - 1))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(not_a_deletion.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(c.post(s.url("/api/v1/undo/999999")).bearer_auth(&admin).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(body(c.get(s.url("/api/v1/audit/verify")).bearer_auth(&admin).send().await.unwrap()).await["first_broken"], Value::Null);
    }

    async fn users_are_managed_within_scope(s: TestServer) {
        let c = client();
        let admin = s.token("admin").await;
        let country_admin = s.token("admin_col").await;
        let new = |name: &str, countries: Value, password: &str| json!({"username": name, "display_name": "New person", "role": "enumerator", "countries": countries, "password": password});
        let short = c.post(s.url("/api/v1/users")).bearer_auth(&admin).json(&new("ana", json!(["COL"]), "short")).send().await.unwrap();
        assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body(short).await["field"], "password");
        let ok = c.post(s.url("/api/v1/users")).bearer_auth(&country_admin).json(&new("ana", json!(["COL"]), "long enough pass")).send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::CREATED);
        let dup = c.post(s.url("/api/v1/users")).bearer_auth(&admin).json(&new("ANA", json!(["COL"]), "long enough pass")).send().await.unwrap();
        assert_eq!(dup.status(), StatusCode::CONFLICT);
        let outside = c.post(s.url("/api/v1/users")).bearer_auth(&country_admin).json(&new("pedro", json!(["PER"]), "long enough pass")).send().await.unwrap();
        assert_eq!(outside.status(), StatusCode::FORBIDDEN, "a Colombia admin cannot create a Peru user");
        let listed = body(c.get(s.url("/api/v1/users")).bearer_auth(&country_admin).send().await.unwrap()).await;
        let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert!(names.contains(&"ana") && !names.contains(&"admin") && !names.contains(&"viewer"), "{names:?}");
        let im = s.token("im_col").await;
        assert_eq!(c.get(s.url("/api/v1/users")).bearer_auth(&im).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let token = c.post(s.url("/api/v1/auth/token")).json(&json!({"username": "ana", "password": "long enough pass"})).send().await.unwrap();
        assert_eq!(token.status(), StatusCode::CREATED);
        let ana_token = body(token).await["token"].as_str().unwrap().to_string();
        let ana_id = listed["items"].as_array().unwrap().iter().find(|u| u["username"] == "ana").unwrap()["id"].as_i64().unwrap();
        let url = s.url(&format!("/api/v1/users/{ana_id}/password"));
        let without = c.put(&url).bearer_auth(&ana_token).json(&json!({"password": "a new password"})).send().await.unwrap();
        assert_eq!(without.status(), StatusCode::UNPROCESSABLE_ENTITY, "one's own password needs the current one");
        assert_eq!(body(without).await["field"], "current_password");
        let with = c.put(&url).bearer_auth(&ana_token).json(&json!({"password": "a new password", "current_password": "long enough pass"})).send().await.unwrap();
        assert_eq!(with.status(), StatusCode::NO_CONTENT);
        let by_admin = c.put(&url).bearer_auth(&country_admin).json(&json!({"password": "reset by admin"})).send().await.unwrap();
        assert_eq!(by_admin.status(), StatusCode::NO_CONTENT);
        let me = c.get(s.url("/api/v1/me")).bearer_auth(&ana_token).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "an administrator's reset revokes the user's tokens");
        let by_viewer = c.put(&url).bearer_auth(s.token("viewer").await).json(&json!({"password": "hijacked!!"})).send().await.unwrap();
        assert_eq!(by_viewer.status(), StatusCode::FORBIDDEN);
    }
}
