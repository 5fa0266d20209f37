use super::*;
use crate::xpath::parse;

fn paths() -> FieldPaths {
    let mut paths = FieldPaths::new();
    paths.insert("age".into(), vec!["data".into(), "member".into(), "age".into()]);
    paths
}

#[test]
fn compiles_references_operators_and_calls() {
    let expr = parse("${age} >= 18 and selected(${age}, 'a')").unwrap();
    let code = compile(&expr, &paths());
    assert_eq!(
        code,
        r#"(R.cmp("\u003e=",R.field(c,["data","member","age"]),18.0)&&R["f:selected"](c,R.field(c,["data","member","age"]),"a"))"#
    );
    let code = compile(&parse("-(1 div 0) + 2 mod 3").unwrap(), &paths());
    assert_eq!(code, "((-(1.0/0))+(2.0%3.0))");
    let code = compile(&parse("if(. = '', 0, count(../x))").unwrap(), &paths());
    assert!(code.starts_with("(R.cmp(\"=\",R.path(c,0,[[2,2]]),\"\")?0:R[\"f:count\"]"), "{code}");
}

#[test]
fn unknown_fields_and_functions_fail_when_evaluated() {
    assert_eq!(compile(&parse("${nope}").unwrap(), &paths()), r#"R.fail("no field named `nope`")"#);
    assert!(compile(&parse("frobnicate(1)").unwrap(), &paths()).starts_with("R.fail("));
    assert!(compile(&parse("concat()").unwrap(), &paths()).starts_with("R[\"f:concat\"](c)"));
    assert!(compile(&parse("not()").unwrap(), &paths()).starts_with("R.fail("));
}

#[test]
fn string_literals_cannot_escape_a_script() {
    let text = "it's \"</script>\" \u{2028} \\ <!--";
    let literal = js_string(text);
    assert!(!literal.contains("</"));
    assert!(!literal.contains('\u{2028}'));
    assert!(!literal.contains("<!--"));
    let back: String = serde_json::from_str(&literal).unwrap();
    assert_eq!(back, text);
}

#[test]
fn numbers_print_as_javascript() {
    let code = |text: &str| compile(&parse(text).unwrap(), &paths());
    assert_eq!(code("1000000000000000000000 - 0.5"), "(1e21-0.5)");
    assert_eq!(code("0 div 0"), "(0/0)");
    assert_eq!(compile(&Expr::Number(f64::NAN), &paths()), "NaN");
    assert_eq!(compile(&Expr::Number(-0.0), &paths()), "(-0)");
    assert_eq!(code("5 - -3"), "(5.0-(-3.0))");
}

fn form() -> Form {
    let q = |name: &str, question: QuestionType| Field {
        name: name.into(),
        kind: Some(Kind::Question(question)),
        ..Field::default()
    };
    let mut age = q("age", QuestionType::Integer);
    age.constraint = Some(". >= 0 and . < 130".into());
    age.constraint_message.insert("default", "Age?".into());
    age.required = Some("yes".into());
    let mut adult = q("adult", QuestionType::Calculate);
    adult.calculation = Some("if(${age} >= 18, 'yes', 'no')".into());
    let mut job = q("job", QuestionType::SelectOne);
    job.list = Some("jobs".into());
    job.relevant = Some("${adult} = 'yes'".into());
    job.choice_filter = Some("kind = ${age}".into());
    let mut member = Field { name: "member".into(), kind: Some(Kind::Repeat), ..Field::default() };
    member.children = vec![age, adult, job];
    member.repeat_count = Some("2".into());
    let mut form = Form { root: "data".into(), id: "household".into(), title: "Household".into(), ..Form::default() };
    form.settings.version = Some("3".into());
    form.fields = vec![member];
    form.choices = vec![crate::model::ChoiceList {
        name: "jobs".into(),
        choices: vec![crate::model::Choice {
            name: "farmer".into(),
            extra: vec![("kind".into(), "1".into())],
            ..crate::model::Choice::default()
        }],
    }];
    form
}

#[test]
fn definition_refers_to_the_functions_of_the_script() {
    let form = form();
    let definition = definition(&form);
    let script = expressions_js(&form);
    let key = definition["expressions"].as_str().unwrap();
    assert!(key.starts_with("household@3#"));
    assert!(script.contains(&js_string(key)));
    let member = &definition["fields"][0];
    assert_eq!(member["kind"], "repeat");
    assert_eq!(member["repeat_count"], 0);
    let age = &member["children"][0];
    assert_eq!(age["required"], true);
    assert_eq!(age["constraint"], 1);
    assert_eq!(age["constraint_message"]["default"], "Age?");
    let job = &member["children"][2];
    assert_eq!(job["list"], "jobs");
    assert_eq!(job["relevant"], 3);
    // One function per distinct expression, in the order the definition numbers them.
    assert_eq!(script.matches("function(R,c)").count(), 5);
    assert_eq!(expressions(&form).len(), 5);
    // `adult` is worked out after `age`, `job` after `adult`.
    let order: Vec<u64> = definition["order"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(order, vec![0, 1, 2, 3]);
    assert_eq!(definition["choices"][0]["choices"][0]["extra"][0][1], "1");
    assert_eq!(definition["names"]["job"]["list"], "jobs");
}

#[test]
fn a_form_id_cannot_end_the_scripts_comment() {
    let md = "| survey |\n| | type | name | label |\n| | text | a | A |\n\
              | settings |\n| | form_id | version |\n| | x*/alert(1)/* | 1 |\n";
    let form = crate::read_form(md.as_bytes(), Some("f.md")).unwrap();
    let script = expressions_js(&form);
    let first_line = script.lines().next().unwrap();
    assert_eq!(first_line.matches("*/").count(), 1, "{first_line}");
    assert!(first_line.ends_with("*/"), "{first_line}");
}
