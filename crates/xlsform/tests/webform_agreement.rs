//! Client and server must agree: every expression of every form of the corpus
//! (`data/xlsform-corpus`) is evaluated on a few generated submissions by the
//! Rust evaluator and by the browser runtime's compiled JavaScript (in node,
//! through `tests/webform/agree.js`), and the results are compared.
//!
//! Expressions using a function whose result changes from one call to the
//! next (`now`, `today`, `random`, `randomize`, `uuid`) are skipped. Node is
//! part of the machine: the test fails without it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, FixedOffset};
use rumbo_xlsform::webform::{definition, expressions, expressions_js, field_paths};
use rumbo_xlsform::xpath::{Env, Expr, Instance, NodeId, Value, evaluate};
use rumbo_xlsform::{Form, Validator, read_form};
use serde_json::{Value as Json, json};

/// The least share of cases on which both sides must agree.
const MIN_AGREEMENT: f64 = 0.99;
const SAMPLES: u64 = 12;
/// Cases per form at most, to keep the test quick on the largest forms.
const MAX_CASES: usize = 6000;
/// Items of a choice list a `choice_filter` is tried on.
const FILTER_ITEMS: usize = 25;
const NONDETERMINISTIC: [&str; 5] = ["now", "today", "random", "randomize", "uuid"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/xlsform-corpus")
}

fn forms() -> Vec<String> {
    let manifest = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).expect("the corpus manifest");
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cells = line.split('\t');
            let path = cells.next()?;
            let description = cells.nth(1)?;
            description.starts_with("XLSForm").then(|| path.to_owned())
        })
        .collect()
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One generated submission: the tree for node, the instance for Rust, and
/// every element with the field it answers.
struct Sample {
    tree: Vec<Json>,
    instance: Instance,
    /// (node number, node, field id)
    nodes: Vec<(usize, NodeId, u64)>,
    count: usize,
}

fn answer(rng: &mut Rng, field: &Json, lists: &HashMap<String, Vec<String>>) -> String {
    let kind = field["type"].as_str().unwrap_or("");
    let names: Vec<&str> = field["list"]
        .as_str()
        .and_then(|list| lists.get(list))
        .map(|names| names.iter().map(String::as_str).collect())
        .unwrap_or_default();
    if rng.chance(15) {
        return String::new();
    }
    match kind {
        "integer" | "range" => {
            rng.pick(&["-1", "0", "1", "2", "3", "5", "12", "17", "18", "30", "65", "120", "999"]).into()
        }
        "decimal" => rng.pick(&["0", "0.5", "1.25", "3", "-2.75", "100.1", "18", "1e3"]).into(),
        "select_one" if !names.is_empty() => rng.pick(&names).into(),
        "select_multiple" if !names.is_empty() => {
            let mut chosen: Vec<&str> = Vec::new();
            for _ in 0..=rng.below(3) {
                let name = rng.pick(&names);
                if !chosen.contains(&name) {
                    chosen.push(name);
                }
            }
            chosen.join(" ")
        }
        "date" => format!("{}-{:02}-{:02}", 1950 + rng.below(76), 1 + rng.below(12), 1 + rng.below(28)),
        "time" => format!("{:02}:{:02}:00.000+0{}:00", rng.below(24), rng.below(60), rng.below(3)),
        "dateTime" => format!(
            "2024-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+02:00",
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1000)
        ),
        "geopoint" => rng.pick(&["12.5 -70.1 0 5", "4.6097 -74.0817 2600 10", "-12.04 -77.03"]).into(),
        "acknowledge" => "OK".into(),
        "note" => String::new(),
        "metadata" => match field["preload"].as_str() {
            Some("start" | "end") => "2024-06-15T08:01:02.345-05:00".into(),
            Some("today") => "2024-06-15".into(),
            _ => "device-7".into(),
        },
        _ => {
            let mut words = vec!["yes", "no", "0", "3", "-4.5", "abc def", "Ana María", "2020-02-02", "true", " x "];
            words.extend(names.iter().take(5));
            rng.pick(&words).into()
        }
    }
}

/// What filling a submission needs besides the fields and their parent.
struct Filler<'l> {
    rng: Rng,
    sample_index: u64,
    instance: Instance,
    nodes: Vec<(usize, NodeId, u64)>,
    count: usize,
    lists: &'l HashMap<String, Vec<String>>,
}

impl Filler<'_> {
    fn fill(&mut self, fields: &[Json], parent: NodeId) -> Vec<Json> {
        let mut out = Vec::new();
        for field in fields {
            let name = field["name"].as_str().unwrap_or_default();
            let id = field["id"].as_u64().unwrap_or_default();
            let copies = match field["kind"].as_str() {
                Some("repeat") => match self.sample_index {
                    0 => 1,
                    1 => 2,
                    _ => self.rng.below(4),
                },
                _ => 1,
            };
            for _ in 0..copies {
                let node = self.instance.add_child(parent, name);
                self.count += 1;
                self.nodes.push((self.count, node, id));
                let children = field["children"].as_array().cloned().unwrap_or_default();
                if field["kind"] == "question" {
                    let value = answer(&mut self.rng, field, self.lists);
                    self.instance.set_value(node, &value);
                    out.push(json!([name, value, []]));
                } else {
                    let kids = self.fill(&children, node);
                    out.push(json!([name, "", kids]));
                }
            }
        }
        out
    }
}

/// A submission of `definition` with its choice lists as secondary instances,
/// built as the validator builds its instances.
fn sample(definition: &Json, seed: u64, sample_index: u64, language: Option<&str>) -> Sample {
    let root = definition["root"].as_str().unwrap();
    let mut instance = Instance::new(root);
    let mut lists: HashMap<String, Vec<String>> = HashMap::new();
    for list in definition["choices"].as_array().unwrap() {
        let name = list["name"].as_str().unwrap();
        let list_root = instance.add_secondary(name, "root");
        let mut names = Vec::new();
        for choice in list["choices"].as_array().unwrap() {
            let item = instance.add_child(list_root, "item");
            let n = instance.add_child(item, "name");
            let choice_name = choice["name"].as_str().unwrap();
            instance.set_value(n, choice_name);
            names.push(choice_name.to_owned());
            let label = instance.add_child(item, "label");
            instance.set_value(label, text_in(&choice["label"], language));
            for pair in choice["extra"].as_array().into_iter().flatten() {
                let extra = instance.add_child(item, pair[0].as_str().unwrap());
                instance.set_value(extra, pair[1].as_str().unwrap());
            }
        }
        lists.insert(name.to_owned(), names);
    }
    let root_node = instance.root();
    let mut filler = Filler { rng: Rng(seed), sample_index, instance, nodes: Vec::new(), count: 0, lists: &lists };
    let tree = filler.fill(definition["fields"].as_array().unwrap(), root_node);
    let Filler { instance, nodes, count, .. } = filler;
    Sample { tree, instance, nodes, count }
}

/// `Translated::get`: the language, else the default column, else the first.
fn text_in(translated: &Json, language: Option<&str>) -> String {
    let Some(map) = translated.as_object() else { return String::new() };
    language
        .and_then(|language| map.get(language))
        .or_else(|| map.get("default"))
        .or_else(|| map.values().next())
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn repr(value: &Value, instance: &Instance) -> Json {
    match value {
        Value::Bool(b) => json!({"t": "b", "v": b}),
        Value::Number(n) if n.is_nan() => json!({"t": "n", "v": "NaN"}),
        Value::Number(n) if n.is_infinite() => json!({"t": "n", "v": if *n > 0.0 { "Infinity" } else { "-Infinity" }}),
        Value::Number(n) => json!({"t": "n", "v": n}),
        Value::String(s) => json!({"t": "s", "v": s}),
        Value::Nodes(nodes) => {
            json!({"t": "nodes", "v": nodes.iter().map(|n| instance.string_value(*n)).collect::<Vec<_>>()})
        }
        Value::Date(_) => json!({"t": "date", "v": value.to_string(instance)}),
        Value::DateTime(_) => json!({"t": "dt", "v": value.to_string(instance)}),
    }
}

fn agree(rust: &Json, js: &Json) -> bool {
    if rust["t"] != js["t"] {
        return false;
    }
    match (rust["t"].as_str(), rust["v"].as_f64(), js["v"].as_f64()) {
        (Some("err"), _, _) => true,
        (Some("n"), Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        _ => rust["v"] == js["v"],
    }
}

/// The expressions of each field, by field id: (definition key, function index).
fn field_expressions(fields: &[Json], out: &mut HashMap<u64, Vec<(&'static str, usize)>>) {
    for field in fields {
        let id = field["id"].as_u64().unwrap();
        for key in ["relevant", "constraint", "calculate", "required", "readonly", "default_expr", "repeat_count"] {
            if let Some(index) = field[key].as_u64() {
                out.entry(id).or_default().push((key, index as usize));
            }
        }
        if let Some(children) = field["children"].as_array() {
            field_expressions(children, out);
        }
    }
}

fn choice_filters(fields: &[Json], out: &mut Vec<(String, usize)>) {
    for field in fields {
        if let (Some(list), Some(index)) = (field["list"].as_str(), field["choice_filter"].as_u64()) {
            out.push((list.to_owned(), index as usize));
        }
        if let Some(children) = field["children"].as_array() {
            choice_filters(children, out);
        }
    }
}

struct Case {
    sample: usize,
    function: usize,
    rust: Json,
    what: String,
}

struct FormCases {
    path: String,
    validator: Validator,
    job: Json,
    cases: Vec<Case>,
}

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-06-15T10:30:00+00:00").unwrap()
}

fn cases_of(path: &str, form: &Form, seed: u64) -> FormCases {
    let definition = definition(form);
    let script = expressions_js(form);
    let exprs: Vec<Expr> = expressions(form);
    let fields = field_paths(form);
    let language = definition["default_language"].as_str();
    let deterministic: Vec<bool> =
        exprs.iter().map(|e| !e.calls().iter().any(|call| NONDETERMINISTIC.contains(call))).collect();
    let mut per_field = HashMap::new();
    field_expressions(definition["fields"].as_array().unwrap(), &mut per_field);
    let mut filters = Vec::new();
    choice_filters(definition["fields"].as_array().unwrap(), &mut filters);

    // `jr:choice-name` labels as the validator finds them: the first field of
    // that name, its list, the list's last choice of that name.
    let mut labels: HashMap<String, HashMap<String, String>> = HashMap::new();
    for list in definition["choices"].as_array().unwrap() {
        let entry = labels.entry(list["name"].as_str().unwrap().to_owned()).or_default();
        for choice in list["choices"].as_array().unwrap() {
            entry.insert(choice["name"].as_str().unwrap().to_owned(), text_in(&choice["label"], language));
        }
    }
    let names = definition["names"].as_object().unwrap().clone();
    let choice_label = |field: &str, value: &str| -> Option<String> {
        let field = field.trim().trim_start_matches("${").trim_end_matches('}');
        let list = names.get(field)?["list"].as_str()?;
        labels.get(list)?.get(value).cloned()
    };

    let mut samples = Vec::new();
    let mut trees = Vec::new();
    let mut cases = Vec::new();
    let mut job_cases = Vec::new();
    for s in 0..SAMPLES {
        let sample = sample(&definition, seed.wrapping_mul(31).wrapping_add(s), s, language);
        trees.push(Json::Array(sample.tree.clone()));
        samples.push(sample);
    }
    for (s, sample) in samples.iter().enumerate() {
        let env = Env::new(&sample.instance, &fields, now()).with_choice_labels(&choice_label);
        let mut targets: Vec<(Json, NodeId, usize, String)> = Vec::new();
        for &(number, node, id) in &sample.nodes {
            for (key, index) in per_field.get(&id).into_iter().flatten() {
                // A repeat's count is worked out in its parent.
                let (target, context) = if *key == "repeat_count" {
                    let parent = sample.instance.parent(node).unwrap();
                    let parent_number = sample.nodes.iter().find(|n| n.1 == parent).map_or(0, |n| n.0);
                    (json!(parent_number), parent)
                } else {
                    (json!(number), node)
                };
                targets.push((target, context, *index, format!("{key} of node {number}")));
            }
        }
        for (list, index) in &filters {
            let Some(root) = sample.instance.secondary(list) else { continue };
            let items = sample.instance.children(root);
            let step = (items.len() / FILTER_ITEMS).max(1);
            for position in (0..items.len()).step_by(step).take(FILTER_ITEMS) {
                targets.push((
                    json!([list, position]),
                    items[position],
                    *index,
                    format!("choice_filter on {list}[{position}]"),
                ));
            }
        }
        for (target, context, index, what) in targets {
            if !deterministic[index] || cases.len() >= MAX_CASES * (s + 1) / SAMPLES as usize {
                continue;
            }
            let rust = match evaluate(&exprs[index], &env, context) {
                Ok(value) => repr(&value, &sample.instance),
                Err(error) => json!({"t": "err", "v": error.message}),
            };
            job_cases.push(json!([s, index, target]));
            cases.push(Case { sample: s, function: index, rust, what: format!("{what}: `{}`", exprs[index]) });
        }
    }
    if std::env::var_os("WEBFORM_DEBUG").is_some() {
        eprintln!("{path}: {} expressions, {} nodes, {} cases", exprs.len(), samples[0].count, cases.len());
    }
    let job = json!({ "definition": definition, "script": script, "samples": trees, "cases": job_cases });
    FormCases { path: path.to_owned(), validator: Validator::new(form), job, cases }
}

/// The record a fresh web form sends has the shape the server reads: nothing
/// refused, no element the form lacks, the instance id where it belongs.
fn check_record(form: &FormCases, record: &Json) {
    assert!(record.get("crash").is_none(), "{}: the runtime crashed: {record}", form.path);
    let validated = form.validator.validate_json(record).unwrap_or_else(|e| panic!("{}: {e}", form.path));
    assert_eq!(validated.instance_id.as_deref(), Some("uuid:00000000-0000-4000-8000-000000000000"), "{}", form.path);
    for error in &validated.errors {
        assert!(
            !error.message.contains("is not a field") && !error.message.contains("should be an object"),
            "{}: {error}",
            form.path
        );
    }
}

#[test]
fn browser_and_server_evaluate_the_corpus_alike() {
    let node = std::env::var("RUMBO_NODE").unwrap_or_else(|_| "node".to_owned());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webform/agree.js");
    let mut forms_read = Vec::new();
    for (index, path) in forms().iter().enumerate() {
        let bytes = std::fs::read(corpus().join(path)).unwrap();
        if let Ok(form) = read_form(&bytes, Some(path)) {
            forms_read.push(cases_of(path, &form, index as u64 + 1));
        }
    }
    assert!(forms_read.len() > 60, "only {} forms of the corpus read", forms_read.len());

    let mut child = Command::new(&node)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("node is needed for this test (`{node}`): {error}"));
    let mut stdin = child.stdin.take().unwrap();
    let jobs: Vec<String> = forms_read.iter().map(|form| form.job.to_string()).collect();
    let writer = std::thread::spawn(move || {
        for job in jobs {
            stdin.write_all(job.as_bytes()).unwrap();
            stdin.write_all(b"\n").unwrap();
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();

    let (mut total, mut agreed, mut with_cases) = (0usize, 0usize, 0usize);
    let mut disagreements: Vec<String> = Vec::new();
    let mut by_function: HashMap<String, usize> = HashMap::new();
    let mut kinds: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for form in &forms_read {
        let line = lines.next().expect("a result line from node").expect("node's output");
        let output: Json = serde_json::from_str(&line).expect("node's results as JSON");
        let results = output["results"].as_array().cloned().unwrap_or_default();
        check_record(form, &output["record"]);
        assert_eq!(results.len(), form.cases.len(), "{}", form.path);
        if !form.cases.is_empty() {
            with_cases += 1;
        }
        for (case, js) in form.cases.iter().zip(&results) {
            total += 1;
            assert_ne!(js["t"], "crash", "{} {}: the runtime crashed: {}", form.path, case.what, js["v"]);
            *kinds.entry(case.rust["t"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
            if agree(&case.rust, js) {
                agreed += 1;
            } else {
                *by_function.entry(format!("{}#{}", form.path, case.function)).or_default() += 1;
                if disagreements.len() < 25 {
                    disagreements.push(format!(
                        "{} (sample {}) {}\n    rust: {}\n    js:   {}",
                        form.path, case.sample, case.what, case.rust, js
                    ));
                }
            }
        }
    }
    writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "node failed");

    let share = if total == 0 { 1.0 } else { agreed as f64 / total as f64 };
    println!(
        "webform agreement: {total} cases over {with_cases} forms ({} read), {} disagreements ({:.3}% agree), in {} expressions",
        forms_read.len(),
        total - agreed,
        share * 100.0,
        by_function.len()
    );
    println!("  results by type (rust side): {kinds:?}");
    for line in &disagreements {
        println!("  {line}");
    }
    assert!(total > 10_000, "too few cases: {total}");
    assert!(share >= MIN_AGREEMENT, "only {:.3}% of cases agree", share * 100.0);
}

/// Expressions that reach every function and conversion, evaluated on a
/// small household form: the corpus uses only a few of them.
const EXTRA: &[&str] = &[
    "${age} + 1.5",
    "${age} div 0",
    "-${age} mod 7",
    "${age} * ${income}",
    "${name} = 'Ana'",
    "${name} != ''",
    "${age} < ${income}",
    "${dob} < '2000-01-01'",
    "${dob} = date('1990-05-17')",
    "date(${dob}) + 1",
    "decimal-date-time(${when})",
    "decimal-date(${dob})",
    "format-date(${dob}, '%Y/%m/%d %a %b %e %n %y')",
    "format-date-time(${when}, '%H:%M:%S.%3 %h %d')",
    "format-date(${when}, '%d-%m-%Y %q %')",
    "date(${when})",
    "decimal-time(${at})",
    "date(20000)",
    "date(18000.7)",
    "format-date(0, '%Y')",
    "decimal-date-time(1.25)",
    "date('bad')",
    "string(date('2024-02-29'))",
    "${when} > ${dob}",
    "${dob} = 7441",
    "${dob} - 7440",
    "concat(${name}, '-', ${age}, true(), 1 div 3)",
    "concat(${members})",
    "string(1 div 3)",
    "string(1000000000000000000000 * 1000)",
    "string(1 div 1000000)",
    "string(-1 div 10000000)",
    "string(123456789012345678)",
    "number('  12 ')",
    "number('1e3')",
    "number('-.5')",
    "number('5.')",
    "number(true())",
    "boolean('false')",
    "boolean(0 div 0)",
    "not(${name})",
    "contains(${name}, 'n')",
    "starts-with(${name}, 'A')",
    "ends-with(${name}, 'a')",
    "substring(${name}, 2)",
    "substring('12345', 1.5, 2.6)",
    "substring('12345', 0, 3)",
    "substring('12345', -42, 1 div 0)",
    "substring('ñandú', 2, 3)",
    "substr('abcdef', 1, 3)",
    "substr('abcdef', 4)",
    "substr('abc', -1, 99)",
    "substring-before('a/b/c', '/')",
    "substring-after('a/b/c', '/')",
    "substring-after('abc', '')",
    "string-length('ñandú 😀')",
    "normalize-space('  a \t b\n  c ')",
    "translate('bar', 'abc', 'ABC')",
    "translate('--aaa--', 'abc-', 'ABC')",
    "count(${members})",
    "count(${age})",
    "count-non-empty(${m_age})",
    "sum(${m_age})",
    "max(${m_age})",
    "min(${m_age}, 3)",
    "max()",
    "min('a', 1)",
    "floor(-2.5)",
    "ceiling(-2.5)",
    "round(2.5)",
    "round(-2.5)",
    "round(1.005, 2)",
    "round(1234.5, -2)",
    "round(0.49999999999999994)",
    "int(-3.7)",
    "abs(-4)",
    "pow(2, 0.5)",
    "pow(${age}, 2)",
    "log(10)",
    "log10(1000)",
    "exp(1)",
    "exp10(2)",
    "sqrt(2)",
    "sin(1)",
    "cos(1)",
    "tan(1)",
    "asin(0.5)",
    "acos(0.5)",
    "atan(1)",
    "atan2(1, 2)",
    "pi()",
    "if(${age} > 18, 'adult', 'minor')",
    "coalesce(${nothing}, 'x')",
    "coalesce(${name}, 'x')",
    "selected(${tools}, 'hoe')",
    "selected(${tools}, ' axe ')",
    "selected-at(${tools}, 1)",
    "selected-at(${tools}, 9)",
    "count-selected(${tools})",
    "jr:choice-name(${tool}, '${tool}')",
    "jr:choice-name('axe', '/data/tool')",
    "jr:choice-name('nope', '${tool}')",
    "regex(${name}, '^[A-Z][a-z]+$')",
    "regex('x', '(')",
    "boolean-from-string('TRUE')",
    "boolean-from-string(' 1 ')",
    "join(', ', ${m_age})",
    "join('-', 'a', ${name})",
    "distance('0 0; 0 1; 1 1')",
    "area('0 0; 0 1; 1 1; 1 0')",
    "distance('bad')",
    "checklist(1, 2, 'yes', 0, 1)",
    "checklist(-1, 1, true(), true())",
    "weighted-checklist(2, -1, 'true', 1.5, 0, 3, 1, 1)",
    "count(instance('tools')/root/item)",
    "instance('tools')/root/item[name = 'hoe']/label",
    "instance('tools')/root/item[position() = last()]/name",
    "instance('tools')/root/item[2]/kind",
    "count(instance('tools')/root/item[kind = 'hand'])",
    "instance('nope')/root",
    "pulldata('tools', 'label', 'name', 'axe')",
    "/data/name",
    "../name",
    "/data/members[2]/m_age",
    "count(/data/members)",
    "/data/members[m_age > 10]/m_name",
    "count(//m_age)",
    "count(/data/*)",
    "name(/data/*[2])",
    "local-name(/data)",
    "position(${m_age})",
    "count(/data/members[1]/following-sibling::members)",
    "count(/data/members[last()]/preceding-sibling::*)",
    "count(/data/name/ancestor::*)",
    "count(/data/name/ancestor-or-self::node())",
    "count(/data/descendant::*)",
    "count(/data/members/self::members)",
    "/data/name/text()",
    "count(/data/nothing/text())",
    "(/data/age | /data/name)",
    "count(${m_age} | ${age})",
    "${age} | 1",
    "(1)[1]",
    "indexed-repeat(${m_age}, ${members}, 2)",
    "indexed-repeat(${m_age}, ${members}, 9)",
    "indexed-repeat(${m_age}, ${members}, 1, ${members}, 1)",
    "string(${members})",
    "${members} = 'x'",
    "${m_age} = 33",
    "${m_age} != 33",
    "${m_age} > ${age}",
    "${m_age} = true()",
    "false() = ${nothing}",
    "'2024-01-01' = date('2024-01-01')",
    "today() = ''",
    "once(${age} * 2)",
    "current()/../name",
    "count(current()/..)",
    "string(current())",
    "number()",
    "string-length()",
    "normalize-space()",
    "last()",
    "position()",
    "frobnicate()",
    "${missing}",
    "not(1, 2)",
    "digest('a', 'MD5')",
    "uuid(5) != ''",
    "if(${age}, ${m_age}, ${name})",
    "1 = 1 = 1",
    "2 > 1 > 0",
    "-'3' - -'4'",
    "'a' or 0 and ''",
    "(/)",
    "count(/)",
    "${m_age} + ${m_name}",
    "sum(${m_name})",
    "decimal-time('25:00')",
    "decimal-time('')",
];

#[test]
fn browser_and_server_agree_on_every_function() {
    use rumbo_xlsform::model::{Choice, ChoiceList, Field, Kind, QuestionType, Translated};
    use rumbo_xlsform::webform::compile_function;

    let q = |name: &str, question: QuestionType| Field {
        name: name.into(),
        kind: Some(Kind::Question(question)),
        ..Field::default()
    };
    let mut tool = q("tool", QuestionType::SelectOne);
    tool.list = Some("tools".into());
    let mut tools = q("tools", QuestionType::SelectMultiple);
    tools.list = Some("tools".into());
    let mut members = Field { name: "members".into(), kind: Some(Kind::Repeat), ..Field::default() };
    members.children = vec![q("m_name", QuestionType::Text), q("m_age", QuestionType::Integer)];
    let mut form = Form { root: "data".into(), id: "extra".into(), title: "Extra".into(), ..Form::default() };
    form.fields = vec![
        q("name", QuestionType::Text),
        q("age", QuestionType::Integer),
        q("income", QuestionType::Decimal),
        q("dob", QuestionType::Date),
        q("when", QuestionType::DateTime),
        q("at", QuestionType::Time),
        q("nothing", QuestionType::Text),
        tool,
        tools,
        members,
    ];
    let choice = |name: &str, label: &str, kind: &str| {
        let mut translated = Translated::default();
        translated.insert("default", label.to_owned());
        Choice { name: name.into(), label: translated, extra: vec![("kind".into(), kind.into())], ..Choice::default() }
    };
    form.choices = vec![ChoiceList {
        name: "tools".into(),
        choices: vec![
            choice("axe", "Axe", "hand"),
            choice("hoe", "Hoe", "hand"),
            choice("tractor", "Tractor", "machine"),
        ],
    }];
    let definition = definition(&form);
    let paths = field_paths(&form);
    let exprs: Vec<Expr> = EXTRA.iter().map(|text| rumbo_xlsform::xpath::parse(text).unwrap()).collect();
    let key = definition["expressions"].as_str().unwrap();
    let functions: Vec<String> = exprs.iter().map(|e| compile_function(e, &paths)).collect();
    let script = format!("RumboForms.register({}, [{}]);", serde_json::to_string(key).unwrap(), functions.join(",\n"));

    let tree = json!([
        ["name", "Ana", []],
        ["age", "42", []],
        ["income", "1250.75", []],
        ["dob", "1990-05-17", []],
        ["when", "2024-03-05T07:08:09.123+01:00", []],
        ["at", "18:30:00.000-05:00", []],
        ["nothing", "", []],
        ["tool", "hoe", []],
        ["tools", "axe  tractor", []],
        ["members", "", [["m_name", "Luz", []], ["m_age", "33", []]]],
        ["members", "", [["m_name", "Río", []], ["m_age", "7", []]]],
        ["members", "", [["m_name", "", []], ["m_age", "", []]]],
    ]);
    // Contexts: `age` (node 2) and the second member's `m_name` (node 14).
    let mut instance = Instance::new("data");
    let tools_root = instance.add_secondary("tools", "root");
    for (name, label, kind) in [("axe", "Axe", "hand"), ("hoe", "Hoe", "hand"), ("tractor", "Tractor", "machine")] {
        let item = instance.add_child(tools_root, "item");
        for (element, value) in [("name", name), ("label", label), ("kind", kind)] {
            let child = instance.add_child(item, element);
            instance.set_value(child, value);
        }
    }
    let root = instance.root();
    let mut numbered = vec![root];
    fn add(instance: &mut Instance, parent: NodeId, children: &Json, numbered: &mut Vec<NodeId>) {
        for child in children.as_array().unwrap() {
            let node = instance.add_child(parent, child[0].as_str().unwrap());
            instance.set_value(node, child[1].as_str().unwrap());
            numbered.push(node);
            add(instance, node, &child[2], numbered);
        }
    }
    add(&mut instance, root, &tree, &mut numbered);
    let labels = |field: &str, value: &str| -> Option<String> {
        let field = field.trim().trim_start_matches("${").trim_end_matches('}');
        if field != "tool" && field != "tools" {
            return None;
        }
        [("axe", "Axe"), ("hoe", "Hoe"), ("tractor", "Tractor")]
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, label)| (*label).to_owned())
    };
    let env = Env::new(&instance, &paths, now()).with_choice_labels(&labels);
    let mut cases = Vec::new();
    let mut rust = Vec::new();
    for (index, expr) in exprs.iter().enumerate() {
        if expr.calls().iter().any(|call| NONDETERMINISTIC.contains(call)) {
            continue;
        }
        for target in [2usize, 14] {
            cases.push(json!([0, index, target]));
            rust.push(match evaluate(expr, &env, numbered[target]) {
                Ok(value) => repr(&value, &instance),
                Err(error) => json!({"t": "err", "v": error.message}),
            });
        }
    }
    let job = json!({ "definition": definition, "script": script, "samples": [tree], "cases": cases });
    let node = std::env::var("RUMBO_NODE").unwrap_or_else(|_| "node".to_owned());
    let script_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webform/agree.js");
    let mut child = Command::new(&node)
        .arg(&script_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("node is needed for this test (`{node}`): {error}"));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{job}\n").as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed");
    let output: Json = serde_json::from_slice(&output.stdout).unwrap();
    let results = output["results"].as_array().unwrap();
    assert_eq!(results.len(), rust.len());
    let mut wrong = Vec::new();
    for ((case, r), js) in cases.iter().zip(&rust).zip(results) {
        if !agree(r, js) {
            wrong.push(format!(
                "`{}` at node {}\n    rust: {r}\n    js:   {js}",
                EXTRA[case[1].as_u64().unwrap() as usize],
                case[2]
            ));
        }
    }
    let errors = rust.iter().filter(|r| r["t"] == "err").count();
    println!("webform functions: {} cases ({errors} errors on both sides), {} disagreements", rust.len(), wrong.len());
    if std::env::var_os("WEBFORM_DEBUG").is_some() {
        for (case, r) in cases.iter().zip(&rust) {
            println!("  {} @{}: {r}", EXTRA[case[1].as_u64().unwrap() as usize], case[2]);
        }
    }
    for line in &wrong {
        println!("  {line}");
    }
    assert!(wrong.is_empty(), "{} of {} cases disagree", wrong.len(), rust.len());
}
