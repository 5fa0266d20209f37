//! `rumbo demo`'s instance, on both engines: what it promises is there, and usable.

use rumbo_domain::demo;
use rumbo_store::model::{ListFilter, Role};
use serde_json::{Value, json};

use crate::common::{TestServer, client};

rumbo_store::engine_tests! {
    async fn the_demo_instance_is_complete(db: TestDb) {
        let summary = demo::seed(&db.store, "demo-password-1").await.expect("the demo fills an empty store");
        assert_eq!(summary.countries, 18);
        assert_eq!(summary.admin_areas, 330, "334 features, four codes merged");
        assert!(summary.sites >= 40);
        assert_eq!(summary.sites_located, summary.sites, "every point lies in an admin-1 area");
        let all = ListFilter { limit: Some(10_000), ..Default::default() };
        assert!(db.list_sites(&all).await.unwrap().items.iter().all(|s| s.admin_area_pcode.is_some()));
        let s = TestServer::start(db).await;
        let c = client();
        for role in Role::ALL {
            let r = c
                .post(s.url("/api/v1/auth/token"))
                .json(&json!({"username": role.as_str(), "password": "demo-password-1"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "demo user {role} signs in");
        }
        let t = s.token_with("im_officer", "demo-password-1").await;
        let countries: Value = c.get(s.url("/api/v1/countries")).bearer_auth(&t).send().await.unwrap().json().await.unwrap();
        let codes: Vec<&str> = countries.as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["COL", "ECU", "PER", "VEN"]);
        let svg = c.get(s.url("/api/v1/countries/VEN/map.svg")).bearer_auth(&t).send().await.unwrap().text().await.unwrap();
        assert_eq!(svg.matches("<path class=\"area\"").count(), s.db.area_shapes("VEN", 1).await.unwrap().len());
        assert!(svg.contains("Santa Elena de Uairén"));
        assert_eq!(s.db.verify_audit_chain().await.unwrap().first_broken, None);
    }
}
