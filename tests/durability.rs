//! Every acknowledged submission is durable: the server is killed (SIGKILL) in the middle of
//! a stream of 10,000 concurrent OpenRosa submissions; once it is started again, every
//! submission that got a 201 is in the store, complete, and nothing is half-written. On
//! SQLite, and on PostgreSQL when `RUMBO_TEST_POSTGRES_URL` names a server.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

const TOTAL: usize = 10_000;
const CONCURRENCY: usize = 64;
const PASSWORD: &str = "durable-pass-1";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(args: &[&str], port: u16) -> Server {
    let port = port.to_string();
    let listen = format!("127.0.0.1:{port}");
    let args: Vec<&str> = args
        .iter()
        .map(|a| {
            if *a == "PORT" {
                port.as_str()
            } else if *a == "LISTEN" {
                listen.as_str()
            } else {
                a
            }
        })
        .collect();
    let child = Command::new(env!("CARGO_BIN_EXE_rumbo"))
        .args(&args)
        .env("RUMBO_LOG", "warn")
        .env("RUMBO_DEMO_SUBMISSIONS", "0")
        .env("RUMBO_DEMO_PASSWORD", PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rumbo");
    Server(child)
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_mins(2);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status() == 200
        {
            // The demo is served once its forms are published.
            if let Ok(r) = reqwest::get(format!("{base}/portal/rumbo_wifi")).await
                && r.status() == 200
            {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn submission(i: usize) -> (String, String) {
    let id = format!("uuid:00000000-0000-4000-8000-{i:012}");
    let xml = format!(
        "<data id=\"rumbo_wifi\" version=\"2026112701\"><country>PER</country><needs>health food</needs>\
         <people>{}</people><message>submission {i}</message><meta><instanceID>{id}</instanceID></meta></data>",
        i % 9 + 1
    );
    (id, xml)
}

async fn token(base: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().expect("a token").to_string()
}

/// Posts the stream; kills the server once `kill_after` submissions are acknowledged.
/// Returns the acknowledged instance ids.
async fn stream_and_kill(base: &str, server: &mut Server, kill_after: usize) -> Vec<String> {
    let key = token(base).await;
    let url = format!("{base}/openrosa/key/{key}/submission");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, acked, next) = (client.clone(), url.clone(), acked.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= TOTAL {
                    return;
                }
                let (id, xml) = submission(i);
                let form = reqwest::multipart::Form::new().part(
                    "xml_submission_file",
                    reqwest::multipart::Part::text(xml).file_name("s.xml").mime_str("text/xml").unwrap(),
                );
                match client.post(&url).multipart(form).send().await {
                    Ok(r) if r.status() == 201 => acked.lock().await.push(id),
                    Ok(r) => panic!("unexpected status {} for {id}", r.status()),
                    // The server is gone: the rest of this stream is not acknowledged.
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_mins(2);
    while acked.lock().await.len() < kill_after {
        assert!(Instant::now() < deadline, "too slow to reach {kill_after} submissions");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.0.kill().expect("SIGKILL the server");
    let _ = server.0.wait();
    for t in tasks {
        let _ = t.await;
    }
    acked.lock().await.clone()
}

async fn check_after_restart(base: &str, acked: &[String]) {
    let key = token(base).await;
    let client = reqwest::Client::new();
    let forms: Value =
        client.get(format!("{base}/api/v1/forms")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    let form = forms.as_array().unwrap().iter().find(|f| f["xml_form_id"] == "rumbo_wifi").expect("the form");
    let mut stored: HashMap<String, Value> = HashMap::new();
    let mut offset = 0;
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/forms/{}/submissions?limit=1000&offset={offset}", form["id"]))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for item in items {
            stored.insert(item["instance_id"].as_str().unwrap().to_string(), item["data"].clone());
        }
        offset += items.len();
    }
    for id in acked {
        let data = stored.get(id).unwrap_or_else(|| panic!("acknowledged submission {id} is missing"));
        let i: usize = id.rsplit('-').next().unwrap().parse().unwrap();
        assert_eq!(data["message"], format!("submission {i}"), "{id} is complete");
    }
    // Nothing half-written: whatever is stored (acknowledged or not) is whole.
    for (id, data) in &stored {
        let i: usize = id.rsplit('-').next().unwrap().parse().unwrap();
        assert_eq!(data["message"], format!("submission {i}"), "{id} is whole");
        assert_eq!(data["people"], i % 9 + 1);
    }
    let chain: Value =
        client.get(format!("{base}/api/v1/audit/verify")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert!(chain["first_broken"].is_null() && chain["lines"].as_i64() > Some(0), "the audit chain holds: {chain}");
    eprintln!("{} acknowledged before the kill; {} stored; all acknowledged ones whole", acked.len(), stored.len());
}

async fn kill_and_restart(first: &[&str], again: &[&str]) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(first, port);
    wait_ready(&base).await;
    let acked = stream_and_kill(&base, &mut server, 2_000).await;
    assert!(acked.len() >= 2_000 && acked.len() < TOTAL, "killed in the middle ({} acknowledged)", acked.len());
    drop(server);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = start(again, port);
    wait_ready(&base).await;
    check_after_restart(&base, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_submissions_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    kill_and_restart(&["demo", "--data-dir", d, "--port", "PORT"], &["serve", "--data-dir", d, "--listen", "LISTEN"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_submissions_survive_sigkill_on_postgres() {
    let Ok(url) = std::env::var("RUMBO_TEST_POSTGRES_URL") else {
        assert!(std::env::var_os("RUMBO_REQUIRE_POSTGRES").is_none(), "RUMBO_TEST_POSTGRES_URL must be set");
        eprintln!("skipped: RUMBO_TEST_POSTGRES_URL is not set");
        return;
    };
    // A database of its own, new each run.
    let name = format!("rumbo_durability_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let db_url = match url.rfind('/') {
        Some(slash) => format!("{}/{name}", &url[..slash]),
        None => panic!("RUMBO_TEST_POSTGRES_URL has no database name"),
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    kill_and_restart(
        &["demo", "--data-dir", d, "--port", "PORT", "--database-url", &db_url],
        &["serve", "--database-url", &db_url, "--data-dir", d, "--listen", "LISTEN"],
    )
    .await;
    admin.close().await;
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await;
}
