#![allow(clippy::float_cmp)]

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use proptest::prelude::*;

use super::*;

// ---------------------------------------------------------------- parsing

fn p(src: &str) -> Expr {
    parse(src).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn num(n: f64) -> Expr {
    Expr::Number(n)
}

fn bin(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary { op, left: Box::new(left), right: Box::new(right) }
}

fn field(name: &str) -> Expr {
    Expr::Field(name.into())
}

fn child(name: &str) -> Step {
    Step { axis: Axis::Child, test: NodeTest::Name(name.into()), predicates: vec![] }
}

fn rel(names: &[&str]) -> Expr {
    Expr::Path(LocationPath { absolute: false, steps: names.iter().map(|n| child(n)).collect() })
}

#[test]
fn parses_with_xpath_precedence() {
    use BinaryOp::*;
    assert_eq!(p("1 + 2 * 3"), bin(Add, num(1.0), bin(Mul, num(2.0), num(3.0))));
    assert_eq!(p("1 - 2 - 3"), bin(Sub, bin(Sub, num(1.0), num(2.0)), num(3.0)));
    assert_eq!(p("a or b and c"), bin(Or, rel(&["a"]), bin(And, rel(&["b"]), rel(&["c"]))));
    assert_eq!(p("1 < 2 = 3 > 4"), bin(Eq, bin(Lt, num(1.0), num(2.0)), bin(Gt, num(3.0), num(4.0))));
    assert_eq!(p("-a | b"), Expr::Negate(Box::new(bin(Union, rel(&["a"]), rel(&["b"])))));
    assert_eq!(p("(1 + 2) * 3"), bin(Mul, bin(Add, num(1.0), num(2.0)), num(3.0)));
    assert_eq!(p(".5 + 1.5"), bin(Add, num(0.5), num(1.5)));
}

#[test]
fn tells_operators_from_names() {
    use BinaryOp::*;
    // `*`, `div`, `mod` are operators only after an operand.
    assert_eq!(p("* * *"), bin(Mul, Expr::Path(any_path()), Expr::Path(any_path())));
    assert_eq!(p("div div div"), bin(Div, rel(&["div"]), rel(&["div"])));
    assert_eq!(p("mod mod mod"), bin(Mod, rel(&["mod"]), rel(&["mod"])));
    assert_eq!(p("and and or"), bin(And, rel(&["and"]), rel(&["or"])));
    assert_eq!(p("${a}-1"), bin(Sub, field("a"), num(1.0)));
    assert_eq!(p("-${a}"), Expr::Negate(Box::new(field("a"))));
    assert_eq!(p("a-b"), rel(&["a-b"]));
    assert_eq!(p("a - b"), bin(Sub, rel(&["a"]), rel(&["b"])));
    assert_eq!(p("a -b"), bin(Sub, rel(&["a"]), rel(&["b"])));
    assert_eq!(p("${a}*${b}"), bin(Mul, field("a"), field("b")));
    assert_eq!(p("${ ñandú.1 }"), field("ñandú.1"));
    assert_eq!(p("3 div 4"), bin(Div, num(3.0), num(4.0)));
    let call = p("jr:choice-name(${x}, '${x}')");
    assert_eq!(
        call,
        Expr::Call { name: "jr:choice-name".into(), args: vec![field("x"), Expr::Literal("${x}".into())] }
    );
    assert_eq!(p("count-selected(.)"), Expr::Call { name: "count-selected".into(), args: vec![p(".")] });
}

fn any_path() -> LocationPath {
    LocationPath { absolute: false, steps: vec![Step { axis: Axis::Child, test: NodeTest::Any, predicates: vec![] }] }
}

#[test]
fn parses_paths_and_filters() {
    let e = p("instance('x')/root/item[name = current()/../y]/label");
    let Expr::Filter { primary, predicates, steps } = &e else { panic!("{e:?}") };
    assert_eq!(**primary, Expr::Call { name: "instance".into(), args: vec![Expr::Literal("x".into())] });
    assert!(predicates.is_empty());
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[1].predicates.len(), 1);
    assert_eq!(e.to_string(), "instance('x')/root/item[name = current()/../y]/label");

    let abs = p("/data/a//b/@id");
    let Expr::Path(path) = &abs else { panic!() };
    assert!(path.absolute);
    assert_eq!(path.steps[2].axis, Axis::DescendantOrSelf);
    assert_eq!(path.steps[4].axis, Axis::Attribute);
    assert_eq!(abs.to_string(), "/data/a//b/@id");
    assert_eq!(p("/").to_string(), "(/)");
    assert_eq!(p("(/) * 1").to_string(), "(/) * 1");
    assert!(parse("/ * 1").is_err(), "XPath reads `/ *` as `/*`");
    assert_eq!(p("//x").to_string(), "//x");
    assert_eq!(p("../x").to_string(), "../x");
    assert_eq!(p("(${a} | ${b})[2]").to_string(), "(${a} | ${b})[2]");
    assert_eq!(p("ancestor::x[1]/text()").to_string(), "ancestor::x[1]/text()");
    assert_eq!(p("(1 + 2)").to_string(), "1 + 2");
    assert_eq!(p("1 - (2 - 3)").to_string(), "1 - (2 - 3)");
    assert_eq!(p("\"it's\"").to_string(), "\"it's\"");
}

#[test]
fn reports_fields_and_calls() {
    let e = p("if(selected(${a}, 'x'), ${b} + ${a}, concat(${c}, string(${b})))");
    assert_eq!(e.fields(), vec!["a", "b", "c"]);
    assert_eq!(e.calls(), vec!["if", "selected", "concat", "string"]);
    assert_eq!(check_functions(&p("foo(1) + bar() + foo(2) + concat('a')")), vec!["foo", "bar"]);
    assert!(check_functions(&p("pulldata('a', 'b', 'c', 'd') + digest('a', 'SHA-1')")).is_empty());
}

#[test]
fn reports_syntax_errors_with_offsets() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "the expression is empty"),
        ("count(${a} + (1", 13, "unbalanced brackets: `(` at position 14 is never closed"),
        ("(1 + 2", 0, "unbalanced brackets: `(` at position 1 is never closed"),
        ("1 + 2)", 5, "unexpected `)` at position 6"),
        ("${a} and", 8, "expected an expression after `and` at position 6"),
        ("${a} = 'yes", 7, "unterminated text in quotes"),
        ("${} > 1", 0, "empty reference `${}`"),
        ("${a > 1", 0, "is never closed with `}`"),
        ("${a b} > 1", 0, "is not a valid field name"),
        ("${a} ${b}", 5, "unexpected `${b}` at position 6: expected an operator"),
        ("a[1", 1, "unbalanced brackets: `[` at position 2 is never closed"),
        ("1 == 1", 2, "compare with a single `=`"),
        ("1 && 1", 2, "write `and`"),
        ("$x", 0, "XPath variables are not supported"),
        ("1 # 2", 2, "unexpected character `#`"),
        ("concat(1,)", 9, "expected an argument of `concat()`"),
        ("concat(1 2)", 9, "expected `,` or `)` in the call to `concat()`"),
        ("a/", 2, "expected a name after `/`"),
        ("comment()", 0, "not supported"),
        ("foo::x", 0, "not a supported axis"),
        ("é = (", 6, "expected an expression after `(`"),
    ];
    for (src, offset, message) in cases {
        let err = parse(src).expect_err(src);
        assert!(err.message.contains(message), "{src}: got {:?}", err.message);
        assert_eq!(err.offset, *offset, "{src}: {}", err.message);
    }
}

#[test]
fn limits_nesting_and_parses_long_expressions_quickly() {
    let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
    assert!(parse(&deep).unwrap_err().message.contains("nested too deeply"));
    let calls = format!("{}1{}", "abs(".repeat(300), ")".repeat(300));
    assert!(parse(&calls).unwrap_err().message.contains("nested too deeply"));
    assert!(parse(&"-".repeat(100_000)).is_err());
    let long = (0..1200).map(|i| format!("${{f{i}}}")).collect::<Vec<_>>().join(" + ");
    assert!(long.len() > 10_000);
    let start = std::time::Instant::now();
    let e = p(&long);
    let elapsed = start.elapsed();
    assert_eq!(e.fields().len(), 1200);
    assert_eq!(p(&e.to_string()), e);
    // Generous for unoptimised test builds on a shared machine.
    assert!(elapsed.as_millis() < 50, "{elapsed:?}");
    let nested_ok = format!("{}${{age}}{}", "abs(-".repeat(MAX_DEPTH / 2 - 1), ")".repeat(MAX_DEPTH / 2 - 1));
    let e = p(&nested_ok);
    let data = Data::new();
    assert_eq!(data.eval_at(&e.to_string(), data.age_of(0)), Ok(Value::Number(30.0)));
}

// ---------------------------------------------------------------- evaluation

struct Data {
    inst: Instance,
    fields: HashMap<String, Vec<String>>,
    now: DateTime<FixedOffset>,
    members: Vec<NodeId>,
}

impl Data {
    /// A household with three members (age 30, 5, empty) and a place list.
    fn new() -> Self {
        let mut inst = Instance::new("data");
        let root = inst.root();
        let mut fields = HashMap::new();
        let mut leaf = |inst: &mut Instance, parent: NodeId, path: &[&str], value: &str| {
            let node = inst.add_child(parent, path[path.len() - 1]);
            inst.set_value(node, value);
            fields.insert(path[path.len() - 1].to_owned(), path.iter().map(|s| (*s).to_owned()).collect());
            node
        };
        leaf(&mut inst, root, &["data", "head"], "Ana");
        leaf(&mut inst, root, &["data", "dob"], "2000-01-15");
        leaf(&mut inst, root, &["data", "colors"], "red  blue green");
        leaf(&mut inst, root, &["data", "country"], "co");
        leaf(&mut inst, root, &["data", "start"], "2024-06-15T09:30:00.000+02:00");
        let mut members = Vec::new();
        for (name, age) in [("Ana", "30"), ("Luis", "5"), ("Eva", "")] {
            let member = inst.add_child(root, "member");
            leaf(&mut inst, member, &["data", "member", "name"], name);
            leaf(&mut inst, member, &["data", "member", "age"], age);
            let visits = inst.add_child(member, "visit");
            leaf(&mut inst, visits, &["data", "member", "visit", "place"], &format!("{name}-home"));
            members.push(member);
        }
        leaf(&mut inst, root, &["data", "total"], "");
        fields.insert("member".into(), vec!["data".into(), "member".into()]);
        fields.insert("ghost".into(), vec!["data".into(), "ghost".into()]);
        let places = inst.add_secondary("places", "root");
        for (name, label, country) in [("bog", "Bogotá", "co"), ("cuc", "Cúcuta", "co"), ("ccs", "Caracas", "ve")] {
            let item = inst.add_child(places, "item");
            for (k, v) in [("name", name), ("label", label), ("country", country)] {
                let n = inst.add_child(item, k);
                inst.set_value(n, v);
            }
        }
        let now = DateTime::parse_from_rfc3339("2024-06-15T10:00:00+02:00").unwrap();
        Data { inst, fields, now, members }
    }

    fn env(&self) -> Env<'_> {
        Env::new(&self.inst, &self.fields, self.now)
    }

    fn eval_at(&self, src: &str, context: NodeId) -> Result<Value, EvalError> {
        evaluate(&p(src), &self.env(), context)
    }

    fn eval(&self, src: &str) -> Value {
        self.eval_at(src, self.inst.root()).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn text(&self, src: &str) -> String {
        self.eval(src).to_string(&self.inst)
    }

    fn error(&self, src: &str) -> String {
        self.eval_at(src, self.inst.root()).expect_err(src).message
    }

    fn age_of(&self, member: usize) -> NodeId {
        self.inst.find(self.members[member], &["age"])[0]
    }
}

fn check_texts(data: &Data, cases: &[(&str, &str)]) {
    for (src, expected) in cases {
        assert_eq!(data.text(src), *expected, "{src}");
    }
}

#[test]
fn evaluates_core_functions() {
    let data = Data::new();
    check_texts(
        &data,
        &[
            ("1 + 2 * 3", "7"),
            ("7 div 2", "3.5"),
            ("7 mod 3", "1"),
            ("1 div 0", "Infinity"),
            ("-1 div 0", "-Infinity"),
            ("0 div 0", "NaN"),
            ("0.1 + 0.2", "0.30000000000000004"),
            ("-0", "0"),
            ("3.0", "3"),
            ("'' + 1", "NaN"),
            ("true()", "true"),
            ("not(false())", "true"),
            ("boolean('false')", "true"),
            ("boolean('')", "false"),
            ("number(' 12 ')", "12"),
            ("number('1970-01-11')", "10"),
            ("string(${head})", "Ana"),
            ("concat('a', 1, true())", "a1true"),
            ("concat(${name})", "AnaLuisEva"),
            ("contains('abc', 'b')", "true"),
            ("starts-with('abc', 'ab')", "true"),
            ("ends-with('abc', 'bc')", "true"),
            ("substring('12345', 2, 3)", "234"),
            ("substring('12345', 1.5, 2.6)", "234"),
            ("substring('12345', 0, 3)", "12"),
            ("substring('12345', 0 div 0, 3)", ""),
            ("substring('12345', -42, 1 div 0)", "12345"),
            ("substring('12345', 2)", "2345"),
            ("substring-before('1999/04/01', '/')", "1999"),
            ("substring-after('1999/04/01', '/')", "04/01"),
            ("string-length('ñandú')", "5"),
            ("normalize-space('  a   b ')", "a b"),
            ("translate('bar', 'abc', 'ABC')", "BAr"),
            ("translate('--aaa--', 'abc-', 'ABC')", "AAA"),
            ("count(${age})", "3"),
            ("count(${ghost})", "0"),
            ("sum(${age})", "NaN"),
            ("sum(/data/member[age != '']/age)", "35"),
            ("floor(-1.5)", "-2"),
            ("ceiling(1.2)", "2"),
            ("round(2.5)", "3"),
            ("round(-2.5)", "-3"),
            ("round(1.2345, 2)", "1.23"),
            ("round(1234, -2)", "1200"),
            ("/data/member[2]/name", "Luis"),
            ("/data/member[last()]/name", "Eva"),
            ("/data/member[position() = 2]/name", "Luis"),
            ("name(/data/member[1]/*[2])", "age"),
            ("local-name(/data/head)", "head"),
            ("position(/data/member[3])", "3"),
            ("count(/data/*)", "9"),
            ("count(//visit)", "3"),
            ("count(/data/member/visit/..)", "3"),
            ("count(${name} | ${age} | ${name})", "6"),
            ("(${name} | ${head})[1]", "Ana"),
            ("/data/member[age = '5']/name", "Luis"),
            ("count(/data/member/following-sibling::member)", "2"),
            ("name(/data/member[2]/preceding-sibling::*[1])", "member"),
            ("count(/data/member[1]/ancestor::*)", "1"),
            ("/data/head/text()", "Ana"),
        ],
    );
}

#[test]
fn evaluates_odk_functions() {
    let data = Data::new();
    check_texts(
        &data,
        &[
            ("if(${head} = 'Ana', 'yes', 'no')", "yes"),
            ("if(false(), 1 div ${missing_never_evaluated}, 2)", "2"),
            ("coalesce(${total}, ${head})", "Ana"),
            ("coalesce('x', 'y')", "x"),
            ("selected(${colors}, 'blue')", "true"),
            ("selected(${colors}, 'blu')", "false"),
            ("selected-at(${colors}, 2)", "green"),
            ("selected-at(${colors}, 3)", ""),
            ("selected-at(${colors}, -1)", ""),
            ("count-selected(${colors})", "3"),
            ("count-non-empty(${age})", "2"),
            ("regex(${head}, '^[A-Z][a-z]+$')", "true"),
            ("regex('abc', 'b')", "true"),
            ("int(-3.7)", "-3"),
            ("int('7.9')", "7"),
            ("abs(-2)", "2"),
            ("pow(2, 10)", "1024"),
            ("log(exp(2))", "2"),
            ("log10(1000)", "3"),
            ("exp10(2)", "100"),
            ("sqrt(16)", "4"),
            ("round(sin(pi() div 2), 6)", "1"),
            ("round(cos(0) + tan(0) + asin(0) + acos(1) + atan(0), 6)", "1"),
            ("round(atan2(1, 1) * 4, 10) = round(pi(), 10)", "true"),
            ("min(3, 1, 2)", "1"),
            ("max(${age}, 40)", "NaN"),
            ("max(/data/member[age != '']/age)", "30"),
            ("min(/data/member/name)", "NaN"),
            ("boolean-from-string('true')", "true"),
            ("boolean-from-string('1')", "true"),
            ("boolean-from-string('yes')", "false"),
            ("join(', ', ${name})", "Ana, Luis, Eva"),
            ("join('-', 'a', ${head})", "a-Ana"),
            ("string-length(uuid())", "36"),
            ("string-length(uuid(12))", "12"),
            ("random() >= 0 and random() < 1", "true"),
            ("substr('abcdef', 1, 3)", "bc"),
            ("substr('abcdef', 2)", "cdef"),
            ("substr('abcdef', 4, 2)", ""),
            ("checklist(1, 2, 'true', 0, 1, '')", "true"),
            ("checklist(-1, 1, 1, 1)", "false"),
            ("weighted-checklist(3, -1, 1, 2, 0, 5, 'true', 1)", "true"),
            ("once('fresh')", "fresh"),
            ("instance('places')/root/item[country = /data/country][2]/label", "Cúcuta"),
            ("count(instance('places')/root/item[country = current()/country])", "2"),
            ("pulldata('places', 'label', 'name', 'ccs')", "Caracas"),
            ("indexed-repeat(${name}, ${member}, 2)", "Luis"),
            ("indexed-repeat(${place}, ${member}, 3)", "Eva-home"),
            ("indexed-repeat(${name}, ${member}, 9)", ""),
            ("round(distance('0 0; 0 1'))", "111319"),
            ("round(distance(/data/nothing))", "0"),
            ("round(area('0 0; 0 1; 1 1; 1 0; 0 0') div 1000000)", "12391"),
            ("jr:choice-name('bog', '${country}')", ""),
        ],
    );
    assert_eq!(data.eval("current()"), Value::Nodes(vec![data.inst.root()]));
    let s = data.text("uuid()");
    assert_eq!(s.as_bytes()[14], b'4');
    assert!(matches!(data.eval("randomize(${name}, 3)"), Value::Nodes(n) if n.len() == 3));
}

#[test]
fn reports_evaluation_errors() {
    let data = Data::new();
    for (src, message) in [
        ("foo(1)", "unknown function `foo()`"),
        ("int(1, 2, 3)", "`int()` takes 1 argument, got 3"),
        ("round()", "`round()` takes 1 or 2 arguments, got 0"),
        ("true(1)", "`true()` takes no arguments, got 1"),
        ("checklist(1)", "`checklist()` takes at least 2 arguments, got 1"),
        ("indexed-repeat(${name}, ${member})", "takes from 3 to 7 arguments"),
        ("indexed-repeat(${name}, ${member}, 1, ${member})", "pairs of repeat and position"),
        ("${nope}", "no field named `nope`"),
        ("pulldata('fruits', 'a', 'b', 'c')", "`pulldata()` can only run on a device"),
        ("digest('a', 'SHA-256')", "`digest()` can only run on a device"),
        ("regex('a', '[')", "`regex()` pattern `[` is not a valid regular expression"),
        ("count('a')", "`count()` needs a set of nodes"),
        ("instance('nope')/root", "no choice list or data by that name"),
        ("(1)[1]", "can only follow a set of nodes"),
        ("1 | ${head}", "`|` can only join sets of nodes"),
        ("date('soon')", "`date()` cannot read `soon` as a date"),
        ("position(${ghost})", "needs a node"),
        ("uuid(100000)", "length must be from 0 to 10000"),
        ("distance('91 0; 0 0')", "cannot read `91 0` as a point"),
    ] {
        let got = data.error(src);
        assert!(got.contains(message), "{src}: {got}");
    }
}

#[test]
fn every_known_function_is_implemented() {
    let data = Data::new();
    for name in KNOWN_FUNCTIONS {
        for n in 0..8 {
            let args = vec!["${head}"; n].join(", ");
            if let Err(e) = data.eval_at(&format!("{name}({args})"), data.inst.root()) {
                assert!(!e.message.contains("unknown function"), "{name}: {}", e.message);
            }
        }
    }
    assert!(data.error("nope()").contains("unknown function"));
}

#[test]
fn compares_node_sets_existentially() {
    let data = Data::new();
    check_texts(
        &data,
        &[
            ("${age} = 5", "true"),
            ("${age} = '30'", "true"),
            ("${age} != 5", "true"),
            ("${age} > 29", "true"),
            ("${age} > 30", "false"),
            ("${age} = ${name}", "false"),
            ("${name} = ${head}", "true"),
            ("${ghost} = ''", "false"),
            ("${ghost} != ''", "false"),
            ("${ghost} = false()", "true"),
            ("${age} = true()", "true"),
            ("${head} = 'Ana' and ${total} = ''", "true"),
            ("'2' = 2.0", "true"),
            ("true() = 'x'", "true"),
            ("${total} + 1", "NaN"),
        ],
    );
}

#[test]
fn resolves_fields_within_the_current_repeat_instance() {
    let data = Data::new();
    let age2 = data.age_of(1);
    let env = data.env();
    let at = |src: &str, node: NodeId| evaluate(&p(src), &env, node).unwrap().to_string(&data.inst);
    assert_eq!(at("${name}", age2), "Luis");
    assert_eq!(at("${age}", age2), "5");
    assert_eq!(at(". < 18 and ${age} = .", age2), "true");
    assert_eq!(at("count(${member})", age2), "3");
    assert_eq!(at("count(${name})", data.inst.root()), "3");
    assert_eq!(at("${place}", age2), "Luis-home");
    assert_eq!(at("${head}", age2), "Ana");
    assert_eq!(at("position(..)", age2), "2");
    assert_eq!(at("../name", age2), "Luis");
    assert_eq!(at("/data/member[name = current()/../name]/age", age2), "5");
    assert_eq!(at("indexed-repeat(${name}, ${member}, 1)", age2), "Ana");
    assert_eq!(at("instance('places')/root/item[label = 'Caracas']/country", age2), "ve");
    let place3 = data.inst.find(data.members[2], &["visit", "place"])[0];
    assert_eq!(at("${age}", place3), "");
    assert_eq!(at("${name}", place3), "Eva");
    assert_eq!(at("once('x')", place3), "Eva-home");
}

#[test]
fn evaluates_dates() {
    let data = Data::new();
    check_texts(
        &data,
        &[
            ("today()", "2024-06-15"),
            ("now()", "2024-06-15T10:00:00.000+02:00"),
            ("today() - ${dob}", "8918"),
            ("int((today() - ${dob}) div 365.25)", "24"),
            ("${dob} < today()", "true"),
            ("${dob} < '2000-01-16'", "true"),
            ("today() = '2024-06-15'", "true"),
            ("today() != '2024-06-16'", "true"),
            ("decimal-date-time('2020-01-01T12:00:00Z')", "18262.5"),
            ("decimal-date-time('2020-01-01T14:00:00+02:00')", "18262.5"),
            ("decimal-date-time(${start}) < decimal-date-time(now())", "true"),
            ("decimal-date('1970-01-11')", "10"),
            ("decimal-time('12:00:00.000+02:00')", "0.5"),
            ("decimal-time('18:00:00.000Z')", "0.8333333333333334"),
            ("date(19000)", "2022-01-08"),
            ("date('2024-02-29')", "2024-02-29"),
            ("date('2024-06-15T23:30:00-05:00')", "2024-06-15"),
            ("date(today() + 1)", "2024-06-16"),
            ("date('')", ""),
            ("format-date(${dob}, '%e/%n/%y %a %b %d.%m.%Y')", "15/1/00 Sat Jan 15.01.2000"),
            ("format-date(${start}, '%H:%M')", "09:30"),
            ("format-date-time(${start}, '%Y-%m-%d %h:%M:%S.%3')", "2024-06-15 9:30:00.000"),
            ("format-date-time(decimal-date-time('2020-01-01T12:00:00Z'), '%H')", "14"),
            ("format-date('', '%Y')", ""),
            ("format-date(today(), '%Y')", "2024"),
            ("${start} < now()", "true"),
            ("now() > today()", "true"),
        ],
    );
}

#[test]
fn labels_choices_through_the_env() {
    let data = Data::new();
    let labels = |field: &str, value: &str| (field == "country" && value == "co").then(|| "Colombia".to_owned());
    let env = data.env().with_choice_labels(&labels);
    for src in ["jr:choice-name(${country}, '${country}')", "jr:choice-name(/data/country, ' /data/country ')"] {
        let value = evaluate(&p(src), &env, data.inst.root()).unwrap();
        assert_eq!(value, Value::String("Colombia".into()), "{src}");
    }
}

#[test]
fn evaluates_long_chains_without_deep_recursion() {
    let data = Data::new();
    let long = vec!["1"; 5000].join(" + ");
    assert_eq!(data.text(&long), "5000");
    let ors = vec!["${head} = 'x'"; 2000].join(" or ");
    assert_eq!(data.text(&ors), "false");
    assert_eq!(data.text(&p(&ors).to_string()), "false");
}

// ---------------------------------------------------------------- properties

fn name_strategy() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "div", "and", "x-y", "jr:z", "item", "age", "é", "n.1", "mod"])
        .prop_map(str::to_owned)
}

fn step_strategy(expr: impl Strategy<Value = Expr> + Clone) -> impl Strategy<Value = Step> {
    let axis = prop::sample::select(vec![
        Axis::Child,
        Axis::Child,
        Axis::Parent,
        Axis::SelfNode,
        Axis::Attribute,
        Axis::Descendant,
        Axis::DescendantOrSelf,
        Axis::Ancestor,
        Axis::FollowingSibling,
    ]);
    let test = prop_oneof![
        name_strategy().prop_map(NodeTest::Name),
        Just(NodeTest::Any),
        Just(NodeTest::Node),
        Just(NodeTest::Text),
    ];
    (axis, test, prop::collection::vec(expr, 0..2)).prop_map(|(axis, test, predicates)| Step { axis, test, predicates })
}

fn expr_strategy() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0u32..1000).prop_map(|n| Expr::Number(f64::from(n))),
        (0.0f64..1e6).prop_map(Expr::Number),
        "[a-z' ]{0,5}".prop_map(Expr::Literal),
        "[a-z\" ]{0,5}".prop_map(Expr::Literal),
        prop::sample::select(vec!["head", "age", "name", "member", "dob", "ghost", "colors"])
            .prop_map(|n| Expr::Field(n.into())),
        Just(Expr::Path(LocationPath { absolute: true, steps: vec![] })),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        let op = prop::sample::select(vec![
            BinaryOp::Or,
            BinaryOp::And,
            BinaryOp::Eq,
            BinaryOp::Ne,
            BinaryOp::Lt,
            BinaryOp::Le,
            BinaryOp::Gt,
            BinaryOp::Ge,
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Mod,
            BinaryOp::Union,
        ]);
        let function = prop::sample::select(KNOWN_FUNCTIONS.to_vec()).prop_map(str::to_owned);
        prop_oneof![
            (op, inner.clone(), inner.clone()).prop_map(|(op, l, r)| bin(op, l, r)),
            inner.clone().prop_map(|e| Expr::Negate(Box::new(e))),
            (function, prop::collection::vec(inner.clone(), 0..4)).prop_map(|(name, args)| Expr::Call { name, args }),
            (any::<bool>(), prop::collection::vec(step_strategy(inner.clone()), 1..4))
                .prop_map(|(absolute, steps)| Expr::Path(LocationPath { absolute, steps })),
            (
                inner.clone(),
                prop::collection::vec(inner.clone(), 0..2),
                prop::collection::vec(step_strategy(inner.clone()), 0..3)
            )
                .prop_filter("a filter has predicates or steps", |(_, p, s)| !p.is_empty() || !s.is_empty())
                .prop_map(|(primary, predicates, steps)| Expr::Filter {
                    primary: Box::new(primary),
                    predicates,
                    steps
                }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_parse_never_panics(src in ".{0,80}") {
        let _ = parse(&src);
    }

    #[test]
    fn fuzz_parse_xpath_like_text_never_panics(src in r"[${}()\[\]/.@*:a-z0-9 '=<>!|+-]{0,60}") {
        if let Ok(e) = parse(&src) {
            let printed = e.to_string();
            prop_assert_eq!(parse(&printed).map_err(|e| e.message), Ok(e), "{} -> {}", src, printed);
        }
    }

    #[test]
    fn fuzz_display_round_trips(e in expr_strategy()) {
        let printed = e.to_string();
        let reparsed = parse(&printed).map_err(|err| format!("{printed}: {err}"));
        prop_assert_eq!(reparsed, Ok(e), "{}", printed);
    }

    #[test]
    fn fuzz_evaluate_never_panics(e in expr_strategy(), context in 0usize..4) {
        let data = Data::new();
        let node = if context == 0 { data.inst.root() } else { data.age_of(context - 1) };
        let _ = evaluate(&e, &data.env(), node);
    }
}
