use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::parse::read_form;

const HEADER: [&str; 11] = [
    "type",
    "name",
    "label",
    "relevant",
    "required",
    "required_message",
    "constraint",
    "constraint_message",
    "calculation",
    "repeat_count",
    "choice_filter",
];

/// Survey rows, each cell in HEADER order (missing cells are empty).
fn survey(rows: &[&[&str]]) -> String {
    let mut md = format!("| survey |\n| | {} |\n", HEADER.join(" | "));
    for row in rows {
        let mut cells: Vec<&str> = row.to_vec();
        cells.resize(HEADER.len(), "");
        md.push_str("| | ");
        md.push_str(&cells.join(" | "));
        md.push_str(" |\n");
    }
    md
}

fn household_form() -> Form {
    let mut md = survey(&[
        &["integer", "age", "Age", "", "yes", "", ". >= 0 and . < 120", "Age must be between 0 and 119"],
        &["select_one yn", "consent", "Consent", "", "yes"],
        &["begin group", "details", "Details", "${consent} = 'yes'"],
        &["text", "name", "Name", "", "yes", "Give a name"],
        &["date", "visit", "Visit"],
        &["decimal", "weight", "Weight"],
        &["time", "at", "At"],
        &["dateTime", "when", "When"],
        &["geopoint", "where", "Where"],
        &["geoshape", "area", "Area"],
        &["select_multiple needs", "needs", "Needs", "", "", "", "not(selected(., 'none') and count-selected(.) > 1)"],
        &["select_one country or_other", "country", "Country"],
        &["end group"],
        &["integer", "hh_size", "Size"],
        &["begin repeat", "member", "Member", "", "", "", "", "", "", "${hh_size}"],
        &["integer", "m_age", "Age", "", "yes"],
        &["text", "m_name", "Name", "${m_age} >= 18", "${m_age} > 20"],
        &["calculate", "is_adult", "", "", "", "", "", "", "if(${m_age} >= 18, 1, 0)"],
        &["end repeat"],
        &["calculate", "adults", "", "", "", "", "", "", "sum(${is_adult})"],
        &["calculate", "stamp", "", "", "", "", "", "", "now()"],
        &["select_one city", "city", "City", "", "", "", "", "", "", "", "country = ${country}"],
    ]);
    md.push_str(
        "| choices |\n| | list_name | name | label | country |\n\
         | | yn | yes | Yes | |\n| | yn | no | No | |\n\
         | | needs | food | Food | |\n| | needs | water | Water | |\n| | needs | none | None | |\n\
         | | country | lb | Lebanon | |\n| | country | sy | Syria | |\n\
         | | city | beirut | Beirut | lb |\n| | city | aleppo | Aleppo | sy |\n\
         | settings |\n| | form_id | version |\n| | hh | 3 |\n",
    );
    let form = read_form(md.as_bytes(), Some("t.md")).unwrap_or_else(|errors| panic!("{errors}\n{md}"));
    assert!(form.field("city").and_then(|city| city.choice_filter.as_deref()).is_some(), "{md}");
    form
}

const VALID: &str = r#"<?xml version="1.0"?>
<data xmlns:jr="http://openrosa.org/javarosa" id="hh" version="3">
  <age>30</age>
  <consent>yes</consent>
  <details>
    <name>Ana &amp; Bo</name>
    <visit>2024-02-29</visit>
    <weight>61.5</weight>
    <at>10:30:00.000+03:00</at>
    <when>2024-03-01T10:30:00.000+03:00</when>
    <where>33.89 35.5 12 5</where>
    <area>33.8 35.5 0 0;33.9 35.5 0 0;33.9 35.6 0 0;33.8 35.5 0 0</area>
    <needs>food water</needs>
    <country>lb</country>
  </details>
  <hh_size>2</hh_size>
  <member><m_age>40</m_age><m_name>Ana</m_name><is_adult>0</is_adult></member>
  <member><m_age>10</m_age><m_name>Kid</m_name><is_adult/></member>
  <adults>7</adults>
  <stamp>2024-03-01T10:00:00Z</stamp>
  <city>beirut</city>
  <meta><instanceID>uuid:abc</instanceID><deprecatedID>uuid:old</deprecatedID></meta>
</data>"#;

fn messages(validated: &Validated) -> Vec<(String, String)> {
    validated.errors.iter().map(|error| (error.path.clone(), error.message.clone())).collect()
}

fn with(replace: &str, by: &str) -> String {
    assert!(VALID.contains(replace), "{replace}");
    VALID.replacen(replace, by, 1)
}

#[test]
fn a_valid_submission_gives_a_typed_record() {
    let validator = Validator::new(&household_form());
    let validated = validator.validate_xml(VALID).unwrap();
    assert!(validated.is_valid(), "{:?}", validated.errors);
    assert_eq!(validated.instance_id.as_deref(), Some("uuid:abc"));
    assert_eq!(validated.deprecated_id.as_deref(), Some("uuid:old"));
    let record = &validated.record;
    assert_eq!(record["age"], json!(30));
    assert_eq!(record["details"]["name"], json!("Ana & Bo"));
    assert_eq!(record["details"]["visit"], json!("2024-02-29"));
    assert_eq!(record["details"]["weight"], json!(61.5));
    assert_eq!(record["details"]["needs"], json!(["food", "water"]));
    assert_eq!(
        record["details"]["where"],
        json!({"latitude": 33.89, "longitude": 35.5, "altitude": 12.0, "accuracy": 5.0})
    );
    assert_eq!(record["details"]["area"].as_array().map(Vec::len), Some(4));
    // Recomputed, not as submitted.
    assert_eq!(record["member"][0]["is_adult"], json!("1"));
    assert_eq!(record["member"][1]["is_adult"], json!("0"));
    assert_eq!(record["adults"], json!("1"));
    // now() is kept as the device computed it.
    assert_eq!(record["stamp"], json!("2024-03-01T10:00:00Z"));
    // Not relevant: left out, not an error.
    assert!(record["member"][1].get("m_name").is_none());
    assert_eq!(record["meta"]["instanceID"], json!("uuid:abc"));
    assert!(validator.sensitive_paths().is_empty());
}

#[test]
fn types_are_checked() {
    let validator = Validator::new(&household_form());
    for (replace, by, message) in [
        ("<age>30</age>", "<age>3.5</age>", "`3.5` is not a whole number"),
        ("<visit>2024-02-29</visit>", "<visit>2023-02-29</visit>", "`2023-02-29` is not a date (YYYY-MM-DD)"),
        ("<weight>61.5</weight>", "<weight>heavy</weight>", "`heavy` is not a number"),
        ("<at>10:30:00.000+03:00</at>", "<at>25:00</at>", "`25:00` is not a time (hh:mm:ss)"),
        ("<when>2024-03-01T10:30:00.000+03:00</when>", "<when>2024-03-01 10:30</when>", "is not a date and time"),
        ("<where>33.89 35.5 12 5</where>", "<where>91 35.5</where>", "latitude 91 is outside -90 to 90"),
        ("0 0;33.8 35.5 0 0</area>", "0 0;33.7 35.5 0 0</area>", "a shape must end where it starts"),
    ] {
        let validated = validator.validate_xml(&with(replace, by)).unwrap();
        assert_eq!(validated.errors.len(), 1, "{by}: {:?}", validated.errors);
        assert!(validated.errors[0].message.contains(message), "{by}: {:?}", validated.errors);
    }
    let validated = validator.validate_xml(&with("<age>30</age>", "<age>3.5</age>")).unwrap();
    assert_eq!(validated.errors[0].path, "/data/age");
    assert_eq!(validated.errors[0].field, "age");
    assert_eq!(validated.record["age"], json!("3.5"));
}

#[test]
fn required_only_when_relevant() {
    let validator = Validator::new(&household_form());
    // Not relevant: the whole group is dropped, its required name is not asked for.
    let xml = with("<consent>yes</consent>", "<consent>no</consent>").replace("<city>beirut</city>", "");
    let validated = validator.validate_xml(&xml).unwrap();
    assert!(validated.is_valid(), "{:?}", validated.errors);
    assert!(validated.record.get("details").is_none());
    // Relevant and empty: the form's message.
    let validated = validator.validate_xml(&with("<name>Ana &amp; Bo</name>", "<name> </name>")).unwrap();
    assert_eq!(messages(&validated), vec![("/data/details/name".to_owned(), "Give a name".to_owned())]);
    // Missing altogether counts as empty; `required` as an expression.
    let validated = validator.validate_xml(&with("<m_name>Ana</m_name>", "")).unwrap();
    assert_eq!(messages(&validated), vec![("/data/member[1]/m_name".to_owned(), "an answer is required".to_owned())]);
    let validated =
        validator.validate_xml(&with("<m_age>40</m_age><m_name>Ana</m_name>", "<m_age>19</m_age>")).unwrap();
    assert!(validated.is_valid(), "{:?}", validated.errors);
    assert_eq!(validated.record["member"][0]["m_name"], json!(null));
}

#[test]
fn constraints_use_their_messages() {
    let validator = Validator::new(&household_form());
    let validated = validator.validate_xml(&with("<age>30</age>", "<age>150</age>")).unwrap();
    assert_eq!(messages(&validated), vec![("/data/age".to_owned(), "Age must be between 0 and 119".to_owned())]);
    let validated = validator.validate_xml(&with("<needs>food water</needs>", "<needs>food none</needs>")).unwrap();
    assert_eq!(validated.errors.len(), 1);
    assert_eq!(
        validated.errors[0].message,
        "the answer does not meet the condition `not(selected(., 'none') and count-selected(.) > 1)`"
    );
}

#[test]
fn selects_must_be_choices() {
    let validator = Validator::new(&household_form());
    let validated = validator.validate_xml(&with("<consent>yes</consent>", "<consent>maybe</consent>")).unwrap();
    assert!(
        messages(&validated)
            .contains(&("/data/consent".to_owned(), "`maybe` is not one of the choices of list `yn`".to_owned()))
    );
    let validated = validator.validate_xml(&with("<country>lb</country>", "<country>other</country>")).unwrap();
    // `or_other` allows `other`; but then no city of that country exists.
    assert_eq!(validated.errors.len(), 1, "{:?}", validated.errors);
    assert!(validated.errors[0].message.contains("choice_filter"), "{:?}", validated.errors);
    let validated = validator.validate_xml(&with("<needs>food water</needs>", "<needs>food food</needs>")).unwrap();
    assert_eq!(validated.errors[0].message, "`food` is chosen more than once");
    let validated = validator.validate_xml(&with("<city>beirut</city>", "<city>aleppo</city>")).unwrap();
    assert_eq!(validated.errors.len(), 1);
    assert_eq!(
        validated.errors[0].message,
        "`aleppo` is not among the choices offered here (choice_filter `country = ${country}`)"
    );
}

#[test]
fn repeats_follow_their_count_and_their_own_entry() {
    let validator = Validator::new(&household_form());
    let validated = validator.validate_xml(&with("<hh_size>2</hh_size>", "<hh_size>3</hh_size>")).unwrap();
    assert_eq!(
        messages(&validated),
        vec![(
            "/data/member".to_owned(),
            "there should be 3 `member` entries (repeat_count `${hh_size}`), but there are 2".to_owned()
        )]
    );
    // `${m_age}` inside the second member is the second member's age.
    let validated = validator.validate_xml(&with("<m_age>10</m_age>", "<m_age>30</m_age>")).unwrap();
    assert!(validated.is_valid(), "{:?}", validated.errors);
    assert_eq!(validated.record["member"][1]["m_name"], json!("Kid"));
    assert_eq!(validated.record["adults"], json!("2"));
    let validated = validator.validate_xml(&with("<m_age>10</m_age>", "")).unwrap();
    assert_eq!(messages(&validated), vec![("/data/member[2]/m_age".to_owned(), "an answer is required".to_owned())]);
}

#[test]
fn unknown_and_repeated_elements_are_reported() {
    let validator = Validator::new(&household_form());
    let validated = validator.validate_xml(&with("<hh_size>", "<colour>red</colour><hh_size>")).unwrap();
    assert_eq!(
        messages(&validated),
        vec![("/data/colour".to_owned(), "`colour` is not a field of this form".to_owned())]
    );
    assert_eq!(validated.errors[0].field, "colour");
    let validated = validator.validate_xml(&with("<age>30</age>", "<age>30</age><age>31</age>")).unwrap();
    assert_eq!(validated.errors[0].message, "`age` appears more than once; only the first is kept");
    let validated = validator.validate_xml(&with("<age>30</age>", "<age>30<x/></age>")).unwrap();
    assert_eq!(validated.errors[0].path, "/data/age/x");
    // Anything goes inside meta.
    let validated = validator
        .validate_xml(&with(
            "</meta>",
            "<instanceName>A</instanceName><entity id=\"1\"><label>L</label></entity></meta>",
        ))
        .unwrap();
    assert!(validated.is_valid(), "{:?}", validated.errors);
    assert_eq!(validated.record["meta"]["entity"]["label"], json!("L"));
}

#[test]
fn documents_that_cannot_be_checked_are_rejected() {
    let validator = Validator::new(&household_form());
    let rejected = |xml: &str| validator.validate_xml(xml).unwrap_err().message;
    assert!(rejected(&with("id=\"hh\"", "id=\"other\"")).contains("answers form `other`, not `hh`"));
    assert!(rejected(&with("version=\"3\"", "version=\"2\"")).contains("version `2`"));
    assert!(rejected(&with(" id=\"hh\"", "")).contains("no `id`"));
    assert!(rejected("<survey id=\"hh\"/>").contains("root element is `survey`"));
    let bomb = "<?xml version=\"1.0\"?><!DOCTYPE data [<!ENTITY a \"aaaaaaaaaa\">]><data id=\"hh\">&a;</data>";
    assert!(rejected(bomb).contains("DOCTYPE"));
    assert!(rejected("<data id=\"hh\"><age>&a;</age></data>").contains("entities are not allowed"));
    assert!(rejected("<data id=\"hh\"><age>1</data>").contains("not well-formed"));
    assert!(rejected("").contains("no root element"));
    assert!(rejected("<data id=\"hh\"/><data id=\"hh\"/>").contains("more than one root"));
    let deep = format!("<data id=\"hh\">{}", "<x>".repeat(MAX_DEPTH + 5));
    assert!(rejected(&deep).contains("nest deeper"));
    // Without version, any version is accepted.
    assert!(validator.validate_xml(&with(" version=\"3\"", "")).is_ok());
}

#[test]
fn json_gives_what_xml_gives() {
    let validator = Validator::new(&household_form());
    let submission = json!({
        "@id": "hh",
        "age": 30,
        "consent": "yes",
        "details": {
            "name": "Ana & Bo",
            "visit": "2024-02-29",
            "weight": 61.5,
            "at": "10:30:00.000+03:00",
            "when": "2024-03-01T10:30:00.000+03:00",
            "where": {"latitude": 33.89, "longitude": 35.5, "altitude": 12, "accuracy": 5},
            "area": "33.8 35.5 0 0;33.9 35.5 0 0;33.9 35.6 0 0;33.8 35.5 0 0",
            "needs": ["food", "water"],
            "country": "lb"
        },
        "hh_size": 2,
        "member": [{"m_age": 40, "m_name": "Ana", "is_adult": 0}, {"m_age": 10, "m_name": "Kid"}],
        "adults": "7",
        "stamp": "2024-03-01T10:00:00Z",
        "city": "beirut",
        "meta": {"instanceID": "uuid:abc", "deprecatedID": "uuid:old"}
    });
    let from_json = validator.validate_json(&submission).unwrap();
    let from_xml = validator.validate_xml(VALID).unwrap();
    assert_eq!(from_json, from_xml);
    let wrapped = validator.validate_json(&json!({"data": submission})).unwrap();
    assert_eq!(wrapped, from_xml);

    // The same problems, at the same paths.
    let mut bad = submission.clone();
    bad["member"][1]["m_age"] = json!("ten");
    bad["colour"] = json!("red");
    bad["details"]["needs"] = json!("food none");
    let from_json = validator.validate_json(&bad).unwrap();
    let xml = with("<m_age>10</m_age>", "<m_age>ten</m_age>")
        .replace("<needs>food water</needs>", "<needs>food none</needs>")
        .replace("<hh_size>", "<colour>red</colour><hh_size>");
    let from_xml = validator.validate_xml(&xml).unwrap();
    let mut json_errors = messages(&from_json);
    let mut xml_errors = messages(&from_xml);
    json_errors.sort();
    xml_errors.sort();
    assert_eq!(json_errors, xml_errors);
    assert_eq!(json_errors.len(), 3, "{json_errors:?}");

    assert!(validator.validate_json(&json!([1])).is_err());
    assert!(validator.validate_json(&json!({"@id": "nope"})).is_err());
    let validated = validator.validate_json(&json!({"details": 3, "member": {"m_age": 20}})).unwrap();
    assert!(messages(&validated).iter().any(|(path, message)| path == "/data/details" && message.contains("object")));
    assert_eq!(validated.record["member"][0]["m_age"], json!(20));
}

#[test]
fn reused_memory_does_not_leak_between_submissions() {
    // The validator keeps checked submissions to read the next ones into:
    // whatever order submissions come in, each gets the same result as alone.
    let form = household_form();
    let shared = Validator::new(&form);
    let documents = [
        VALID.to_owned(),
        with("<age>30</age>", "<age>130</age>"),
        with("<hh_size>", "<colour>red</colour><hh_size>"),
        with("<consent>yes</consent>", "<consent>no</consent>"),
        with("<member><m_age>10</m_age><m_name>Kid</m_name><is_adult/></member>", ""),
        "<data id=\"hh\"><age>1</age></data>".to_owned(),
    ];
    let alone: Vec<Validated> = documents.iter().map(|xml| Validator::new(&form).validate_xml(xml).unwrap()).collect();
    for round in 0..3 {
        for (index, xml) in documents.iter().enumerate().rev() {
            let mut validated = shared.validate_xml(xml).unwrap();
            // `now()` is not recomputed, but keep the comparison independent of the clock anyway.
            validated.record["stamp"] = alone[index].record["stamp"].clone();
            assert_eq!(validated, alone[index], "round {round}, document {index}");
        }
        // A rejected document in between changes nothing either.
        assert!(shared.validate_xml("<data id=\"other\"/>").is_err());
        let json = alone[0].record.clone();
        assert!(shared.validate_json(&json).unwrap().is_valid());
    }
}

#[test]
fn sensitive_fields_are_listed() {
    let md = "| survey |\n| | type | name | label | sensitive |\n| | begin group | r | R | |\n\
              | | text | phone | Phone | yes |\n| | end group | | | |\n| | integer | n | N | |\n";
    let validator = Validator::new(&read_form(md.as_bytes(), Some("s.md")).unwrap());
    assert_eq!(validator.sensitive_paths(), ["/data/r/phone".to_owned()]);
    let validated = validator.validate_xml("<data id=\"s\"><r><phone>123</phone></r><n>1</n></data>").unwrap();
    assert_eq!(validated.record["r"]["phone"], json!("123"));
}

#[test]
fn value_readers() {
    assert!(is_time("10:30") && is_time("23:59:59.999Z") && is_time("00:00:00-0530") && is_time("10:00+03"));
    assert!(!is_time("24:00") && !is_time("10:60") && !is_time("10:30:00.") && !is_time("10:30+3") && !is_time("1030"));
    assert!(is_date_time("2024-01-31T10:00:00Z") && !is_date_time("2024-02-30T10:00"));
    assert_eq!(parse_decimal("-.5"), Ok(-0.5));
    assert_eq!(parse_decimal("1e3"), Ok(1000.0));
    for bad in ["", ".", "1e", "inf", "NaN", "1,5", "--1", "1e999"] {
        assert!(parse_decimal(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_int("-12"), Ok(-12));
    assert!(parse_int("99999999999999999999").is_err());
    assert!(parse_points("1 2;3 4", false).is_ok());
    assert!(parse_points("1 2", false).is_err());
    assert!(parse_point("1 2 3 -1").is_err());
    assert!(parse_point("1 2 3 4 5").is_err());
}

fn fuzz_validator() -> &'static Validator {
    static VALIDATOR: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(|| Validator::new(&household_form()))
}

/// XML-ish text: tags of the form's names and others, text, entities, comments.
fn xmlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<data id=\"hh\">".to_owned()),
        Just("</data>".to_owned()),
        Just("<member>".to_owned()),
        Just("</member>".to_owned()),
        Just("<details>".to_owned()),
        Just("</details>".to_owned()),
        Just("<meta><instanceID>".to_owned()),
        Just("</instanceID></meta>".to_owned()),
        Just("<!DOCTYPE x>".to_owned()),
        Just("&amp;".to_owned()),
        Just("&#x10FFFF;".to_owned()),
        Just("<![CDATA[x]]>".to_owned()),
        prop::sample::select(vec!["age", "m_age", "needs", "where", "area", "when", "hh_size", "x", "city"])
            .prop_flat_map(|name| (Just(name), "[ -~]{0,12}"))
            .prop_map(|(name, text)| format!("<{name}>{text}</{name}>")),
        "[ -~]{0,8}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn jsonish() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<f64>().prop_map(|n| serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)),
        any::<i64>().prop_map(Json::from),
        "[ -~]{0,10}".prop_map(Json::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        let key = prop::sample::select(vec![
            "age", "details", "member", "m_age", "needs", "where", "area", "hh_size", "meta", "@id", "x", "data",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((key, inner), 0..8)
                .prop_map(|pairs| Json::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn fuzz_validate_xml_arbitrary_strings(text in "\\PC{0,200}") {
        let _ = fuzz_validator().validate_xml(&text);
    }

    #[test]
    fn fuzz_validate_xml_xmlish(text in xmlish()) {
        let _ = fuzz_validator().validate_xml(&text);
        let _ = fuzz_validator().validate_xml(&format!("<data id=\"hh\">{text}</data>"));
    }

    #[test]
    fn fuzz_validate_json(value in jsonish()) {
        let _ = fuzz_validator().validate_json(&value);
        let _ = fuzz_validator().validate_json(&json!({ "member": [value.clone()], "details": value }));
    }
}
