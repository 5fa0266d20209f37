//! The pages, driven like a browser without JavaScript: sign-in, CSRF, languages, forms.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use rumbo_domain::secrets::{new_secret, secret_hash};

use crate::common::{PASSWORD, client, csrf_of};

crate::server_tests! {
    async fn signing_in_needs_the_form_token_and_the_right_password(s: TestServer) {
        let c = client();
        let r = c.get(s.url("/sites")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/login?next=%2Fsites");
        let page = c.get(s.url("/login?next=%2Fsites")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);

        let forged = client().post(s.url("/login")).form(&[("csrf", csrf.as_str()), ("username", "admin"), ("password", PASSWORD)]).send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "a form without the matching cookie is refused");
        assert!(forged.text().await.unwrap().contains("This form has expired"));

        let wrong = c.post(s.url("/login")).form(&[("csrf", csrf.as_str()), ("username", "admin"), ("password", "guess")]).send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let html = wrong.text().await.unwrap();
        assert!(html.contains("Wrong username or password."));
        let csrf = csrf_of(&html);

        let ok = c.post(s.url("/login")).form(&[("csrf", csrf.as_str()), ("username", "admin"), ("password", PASSWORD), ("next", "/sites")]).send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        assert_eq!(ok.headers()["location"], "/sites");
        let cookie = ok.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|v| v.starts_with("rumbo_session=")).unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let sites = c.get(s.url("/sites")).send().await.unwrap();
        assert_eq!(sites.status(), 200);
        assert_eq!(sites.headers()["cache-control"], "no-store");
        assert!(sites.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
        assert!(sites.text().await.unwrap().contains("Terminal Plaza Norte"));

        let home = c.get(s.url("/")).send().await.unwrap().text().await.unwrap();
        let out = c.post(s.url("/logout")).form(&[("csrf", csrf_of(&home))]).send().await.unwrap();
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        assert_eq!(c.get(s.url("/sites")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "signed out");
    }

    async fn an_expired_session_asks_to_sign_in_again(s: TestServer) {
        let id = s.db.user_id_by_username("admin").await.unwrap();
        let secret = new_secret("");
        s.db.create_session(id, &secret_hash(&secret), "csrf", Utc::now() - Duration::minutes(1)).await.unwrap();
        let r = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
            .get(s.url("/rounds")).header("cookie", format!("rumbo_session={secret}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/login?next=%2Frounds&expired=1");
        let page = client().get(s.url("/login?next=%2Frounds&expired=1")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Your session has expired"));
    }

    async fn forms_need_the_session_token(s: TestServer) {
        let (c, csrf) = s.signed_in("im_col").await;
        let form = [("country_code", "COL"), ("code", "COL-FMP-001"), ("name", "Paraguachón"), ("kind", "border_crossing"), ("latitude", "11.36"), ("longitude", "-72.13"), ("active", "true")];
        let r = c.post(s.url("/sites")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("CSRF token is missing or wrong"));
        let r = c.post(s.url("/sites")).form(&[("csrf", "not-the-token")].iter().chain(form.iter()).collect::<Vec<_>>()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let api = c.post(s.url("/api/v1/sites")).json(&serde_json::json!({})).send().await.unwrap();
        assert_eq!(api.status(), StatusCode::FORBIDDEN, "the API refuses cookie writes without X-CSRF-Token");
        let list = c.get(s.url("/sites?country=COL")).send().await.unwrap().text().await.unwrap();
        assert!(!list.contains("Paraguachón"), "nothing was created");

        let with_token: Vec<(&str, &str)> = [("csrf", csrf.as_str())].into_iter().chain(form).collect();
        let r = c.post(s.url("/sites")).form(&with_token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let list = c.get(s.url("/sites?country=COL&notice=saved")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("Paraguachón") && list.contains("Saved."));

        // Delete it, then undo from the notice.
        let t = s.token("im_col").await;
        let sites: serde_json::Value = client().get(s.url("/api/v1/sites?country=COL")).bearer_auth(t).send().await.unwrap().json().await.unwrap();
        let id = sites["items"][0]["id"].as_i64().unwrap();
        let r = c.post(s.url(&format!("/sites/{id}/delete"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.contains("notice=deleted&undo="), "{location}");
        let list = c.get(s.url(&location)).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("Deleted.") && list.contains("id=\"undo\"") && !list.contains("Paraguachón"));
        let line = location.rsplit("undo=").next().unwrap();
        let r = c.post(s.url(&format!("/undo/{line}"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let list = c.get(s.url(r.headers()["location"].to_str().unwrap())).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("Restored.") && list.contains("Paraguachón"));
    }

    async fn form_errors_are_shown_next_to_their_fields(s: TestServer) {
        let (c, csrf) = s.signed_in("im_col").await;
        let r = c
            .post(s.url("/sites"))
            .form(&[("csrf", csrf.as_str()), ("country_code", "COL"), ("code", "X1"), ("name", "<script>alert(1)</script>"), ("kind", "border_crossing"), ("latitude", "abc"), ("longitude", "-72")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("abc&#39; is not a number") || html.contains("abc&#x27; is not a number"), "{html}");
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "what the user typed comes back escaped");
        assert!(!html.contains("<script>alert(1)"));
        let r = c.post(s.url("/admin-areas")).form(&[("csrf", csrf.as_str()), ("country_code", "COL"), ("pcode", "CO-NSA"), ("level", "1"), ("name_en", "Again")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap().contains("an area with p-code CO-NSA exists already"));
    }

    async fn a_viewer_cannot_post_to_an_editing_page(s: TestServer) {
        let (c, csrf) = s.signed_in("viewer").await;
        let r = c.post(s.url("/admin-areas")).form(&[("csrf", csrf.as_str()), ("country_code", "COL"), ("pcode", "CO-ANT"), ("level", "1"), ("name_en", "Antioquia")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let html = r.text().await.unwrap();
        assert!(html.contains("may not edit admin areas"));
        assert!(html.contains("id=\"sign-out\""), "the error page keeps the signed-in navigation");
        assert_eq!(c.get(s.url("/users")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let areas = c.get(s.url("/admin-areas?format=csv")).send().await.unwrap().text().await.unwrap();
        assert!(!areas.contains("CO-ANT"));
    }

    async fn a_user_of_one_country_cannot_edit_another(s: TestServer) {
        let (c, csrf) = s.signed_in("im_col").await;
        let admin = client();
        let t = s.token("admin").await;
        let per: serde_json::Value = admin.get(s.url("/api/v1/sites?country=PER")).bearer_auth(t).send().await.unwrap().json().await.unwrap();
        let id = per["items"][0]["id"].as_i64().unwrap();
        assert_eq!(c.get(s.url(&format!("/sites/{id}/edit"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let r = c.post(s.url(&format!("/sites/{id}/delete"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(c.get(s.url("/sites?country=PER")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }

    async fn the_language_follows_the_picker_and_the_browser(s: TestServer) {
        let (c, _) = s.signed_in("admin").await;
        let r = c.get(s.url("/lang?to=es&back=%2Fsites")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/sites");
        let html = c.get(s.url("/sites")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Sitios y puntos") && html.contains("<html lang=\"es\">"));
        let page = client().get(s.url("/login")).header("accept-language", "pt-BR,pt;q=0.9,en;q=0.5").send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Entrar") && page.contains("<html lang=\"pt\">"));
    }

    async fn lists_filter_and_download_as_csv(s: TestServer) {
        let (c, _) = s.signed_in("admin").await;
        let r = c.get(s.url("/sites?country=PER&kind=bus_terminal&format=csv")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = r.text().await.unwrap();
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().starts_with("Code,Name,Type,Country"));
        assert!(lines.next().unwrap().starts_with("PER-FMP-001,Terminal Plaza Norte,Bus terminal,PER"));
        assert_eq!(lines.next(), None);
        let t = s.token("admin").await;
        let exports: serde_json::Value =
            client().get(s.url("/api/v1/audit?entity=sites")).bearer_auth(t).send().await.unwrap().json().await.unwrap();
        assert_eq!(exports[0]["action"], "export", "a download is written to the audit log");
        assert_eq!(exports[0]["country_code"], "PER");
        assert_eq!(exports[0]["actor"], "admin");
        let none = c.get(s.url("/sites?kind=airport")).send().await.unwrap().text().await.unwrap();
        assert!(none.contains("Nothing matches these filters."));
        let map = c.get(s.url("/map?country=PER")).send().await.unwrap().text().await.unwrap();
        assert_eq!(map.matches("<path class=\"area\"").count(), 1);
        let audit = c.get(s.url("/audit")).send().await.unwrap().text().await.unwrap();
        assert!(audit.contains("The audit chain is intact"));
    }
}
