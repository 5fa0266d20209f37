//! Which field of one form version is which field of another, so analytics
//! and exports keep seeing one field when a new version moves it into a
//! group, renames its group or rewords its label.
//!
//! A field's identity is its name plus the kind of data it holds: the bind
//! type (`int`, `decimal`, `date`, `geopoint`...), for selects whether one or
//! several choices (`select_one`, `select_multiple`, `rank`), and how many
//! repeats it sits in (`int[]` inside one repeat: moving a field into or out
//! of a repeat changes what one answer means). Groups, labels, hints and
//! choice lists do not count. A name used twice in one version is qualified
//! by its path (`respondent/name:string`), and the difference says so.
//! Renames are given explicitly as `(old name, new name)` pairs.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Field, Form, Kind, QuestionType, Translated};

/// A field that holds data, with what identifies it across versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldKey {
    /// `name:type`, e.g. `age:int`, `needs:select_multiple`, `age:int[]`
    /// inside a repeat; `group/name:type` when the name is used twice.
    pub key: String,
    pub name: String,
    /// `/data/respondent/age`.
    pub path: String,
    /// The kind of data: the bind type, or `select_one`, `select_multiple`, `rank`.
    pub data_type: String,
    /// How many repeats the field is inside.
    pub repeats: usize,
    /// The name appears more than once in the form, so the key carries the path.
    pub qualified: bool,
    pub label: Translated,
}

/// One field found in both versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMatch {
    pub old_path: String,
    pub new_path: String,
    pub old_key: String,
    pub new_key: String,
}

/// A field whose label changed between versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relabel {
    pub path: String,
    pub key: String,
    pub old_label: Translated,
    pub new_label: Translated,
}

/// What changed between two versions of a form, field by field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDiff {
    pub old_version: Option<String>,
    pub new_version: Option<String>,
    /// Same key, same path.
    pub same: Vec<FieldMatch>,
    /// Same key, another path (into or out of a group, group renamed).
    pub moved: Vec<FieldMatch>,
    /// Renamed as the renames said, same kind of data.
    pub renamed: Vec<FieldMatch>,
    pub added: Vec<FieldKey>,
    pub removed: Vec<FieldKey>,
    /// Same name (or renamed) but another kind of data: a different field.
    pub retyped: Vec<FieldMatch>,
    /// Matched fields whose label changed, in any language.
    pub relabelled: Vec<Relabel>,
    /// Names used twice in a version, matched by path.
    pub notes: Vec<String>,
}

impl VersionDiff {
    /// True when every field of the old version is the same field, at the same place, in the new one.
    pub fn is_unchanged(&self) -> bool {
        self.moved.is_empty()
            && self.renamed.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.retyped.is_empty()
    }
}

/// The kind of data a question holds, or `None` for rows that hold none
/// (groups, notes, triggers, external instances).
fn data_type(field: &Field) -> Option<String> {
    let Some(Kind::Question(question)) = field.kind else { return None };
    Some(
        match question {
            QuestionType::Note | QuestionType::Trigger | QuestionType::ExternalInstance { .. } => return None,
            QuestionType::SelectOne | QuestionType::SelectOneExternal => "select_one",
            QuestionType::SelectMultiple => "select_multiple",
            QuestionType::Rank => "rank",
            other => other.bind_type()?,
        }
        .to_owned(),
    )
}

/// Every field of `form` that holds data, in form order, with its identity key.
pub fn field_keys(form: &Form) -> Vec<FieldKey> {
    fn visit(fields: &[Field], path: &mut Vec<String>, repeats: usize, out: &mut Vec<FieldKey>) {
        for field in fields {
            path.push(field.name.clone());
            if let Some(data_type) = data_type(field) {
                out.push(FieldKey {
                    key: String::new(),
                    name: field.name.clone(),
                    path: format!("/{}", path.join("/")),
                    data_type,
                    repeats,
                    qualified: false,
                    label: field.label.clone(),
                });
            }
            visit(&field.children, path, repeats + usize::from(field.is_repeat()), out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    visit(&form.fields, &mut vec![form.root.clone()], 0, &mut out);
    let mut uses: HashMap<String, usize> = HashMap::new();
    for field in &out {
        *uses.entry(field.name.clone()).or_default() += 1;
    }
    let prefix = format!("/{}/", form.root);
    for field in &mut out {
        field.qualified = uses[&field.name] > 1;
        let brackets = "[]".repeat(field.repeats);
        field.key = if field.qualified {
            let relative = field.path.strip_prefix(&prefix).unwrap_or(&field.path);
            format!("{relative}:{}{brackets}", field.data_type)
        } else {
            format!("{}:{}{brackets}", field.name, field.data_type)
        };
    }
    out
}

fn matched(old: &FieldKey, new: &FieldKey) -> FieldMatch {
    FieldMatch {
        old_path: old.path.clone(),
        new_path: new.path.clone(),
        old_key: old.key.clone(),
        new_key: new.key.clone(),
    }
}

/// Matches the fields of two versions: by explicit rename first, then by
/// key; what is left with the same name but another kind of data is
/// `retyped`, the rest `added` or `removed`.
pub fn match_versions(old: &Form, new: &Form, renames: &[(String, String)]) -> VersionDiff {
    let old_keys = field_keys(old);
    let new_keys = field_keys(new);
    let mut diff = VersionDiff {
        old_version: old.settings.version.clone(),
        new_version: new.settings.version.clone(),
        ..VersionDiff::default()
    };
    for (version, keys) in [(&old.settings.version, &old_keys), (&new.settings.version, &new_keys)] {
        let mut reported = HashSet::new();
        for key in keys.iter().filter(|key| key.qualified) {
            if reported.insert(key.name.as_str()) {
                diff.notes.push(format!(
                    "`{}` is used more than once in version `{}`: its fields are matched by path",
                    key.name,
                    version.as_deref().unwrap_or("?")
                ));
            }
        }
    }
    let mut old_used = vec![false; old_keys.len()];
    let mut new_used = vec![false; new_keys.len()];
    let mut pairs: Vec<(usize, usize)> = Vec::new();

    // Explicit renames: only for names used once on both sides.
    let new_by_name: HashMap<&str, usize> = new_keys
        .iter()
        .enumerate()
        .filter(|(_, key)| !key.qualified)
        .map(|(index, key)| (key.name.as_str(), index))
        .collect();
    for (old_name, new_name) in renames {
        let Some(old_index) = old_keys.iter().position(|key| !key.qualified && key.name == *old_name) else { continue };
        let Some(&new_index) = new_by_name.get(new_name.as_str()) else { continue };
        if old_used[old_index] || new_used[new_index] {
            continue;
        }
        old_used[old_index] = true;
        new_used[new_index] = true;
        let (before, after) = (&old_keys[old_index], &new_keys[new_index]);
        if before.data_type == after.data_type && before.repeats == after.repeats {
            diff.renamed.push(matched(before, after));
            pairs.push((old_index, new_index));
        } else {
            diff.retyped.push(matched(before, after));
        }
    }

    // Same key. A qualified key carries its path, so it only matches where the path stayed.
    let new_by_key: HashMap<&str, usize> =
        new_keys.iter().enumerate().map(|(index, key)| (key.key.as_str(), index)).collect();
    for (old_index, before) in old_keys.iter().enumerate() {
        if old_used[old_index] {
            continue;
        }
        let Some(&new_index) = new_by_key.get(before.key.as_str()) else { continue };
        if new_used[new_index] {
            continue;
        }
        old_used[old_index] = true;
        new_used[new_index] = true;
        let after = &new_keys[new_index];
        if before.path == after.path {
            diff.same.push(matched(before, after));
        } else {
            diff.moved.push(matched(before, after));
        }
        pairs.push((old_index, new_index));
    }

    // Same name, another kind of data.
    for (old_index, before) in old_keys.iter().enumerate() {
        if old_used[old_index] || before.qualified {
            continue;
        }
        let Some(&new_index) = new_by_name.get(before.name.as_str()) else { continue };
        if new_used[new_index] {
            continue;
        }
        old_used[old_index] = true;
        new_used[new_index] = true;
        diff.retyped.push(matched(before, &new_keys[new_index]));
    }

    diff.removed = old_keys.iter().zip(&old_used).filter(|(_, used)| !**used).map(|(key, _)| key.clone()).collect();
    diff.added = new_keys.iter().zip(&new_used).filter(|(_, used)| !**used).map(|(key, _)| key.clone()).collect();
    pairs.sort_unstable_by_key(|(_, new_index)| *new_index);
    for (old_index, new_index) in pairs {
        let (before, after) = (&old_keys[old_index], &new_keys[new_index]);
        if before.label != after.label {
            diff.relabelled.push(Relabel {
                path: after.path.clone(),
                key: after.key.clone(),
                old_label: before.label.clone(),
                new_label: after.label.clone(),
            });
        }
    }
    diff
}

fn label(text: &Translated) -> &str {
    text.get(None).unwrap_or("")
}

impl fmt::Display for VersionDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = |version: &Option<String>| version.clone().unwrap_or_else(|| "?".to_owned());
        writeln!(
            f,
            "From version {} to version {}: {} fields unchanged",
            version(&self.old_version),
            version(&self.new_version),
            self.same.len()
        )?;
        if self.is_unchanged() && self.relabelled.is_empty() {
            writeln!(f, "no field was added, removed, moved, renamed or retyped")?;
        }
        for change in &self.moved {
            writeln!(f, "moved: `{}` from {} to {}", change.new_key, change.old_path, change.new_path)?;
        }
        for change in &self.renamed {
            writeln!(
                f,
                "renamed: `{}` to `{}` ({} -> {})",
                change.old_key, change.new_key, change.old_path, change.new_path
            )?;
        }
        for change in &self.retyped {
            writeln!(
                f,
                "retyped, so a different field: `{}` ({}) is now `{}` ({})",
                change.old_key, change.old_path, change.new_key, change.new_path
            )?;
        }
        for key in &self.added {
            writeln!(f, "added: `{}` at {}", key.key, key.path)?;
        }
        for key in &self.removed {
            writeln!(f, "removed: `{}` from {}", key.key, key.path)?;
        }
        for change in &self.relabelled {
            writeln!(
                f,
                "relabelled: `{}` from \"{}\" to \"{}\"",
                change.key,
                label(&change.old_label),
                label(&change.new_label)
            )?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::read_form;

    fn form(survey: &str) -> Form {
        let md = format!(
            "| survey |\n| | type | name | label |\n{survey}| choices |\n| | list_name | name | label |\n| | yn | yes | Yes |\n"
        );
        read_form(md.as_bytes(), Some("t.md")).unwrap_or_else(|errors| panic!("{errors}"))
    }

    #[test]
    fn keys_ignore_groups_and_labels_but_not_repeats() {
        let keys = field_keys(&form(
            "| | begin group | g | G |\n| | integer | age | Age |\n| | end group | | |\n\
             | | begin repeat | r | R |\n| | select_multiple yn | pick | Pick |\n| | end repeat | | |\n\
             | | note | n | Note |\n",
        ));
        let found: Vec<(&str, &str)> = keys.iter().map(|key| (key.key.as_str(), key.path.as_str())).collect();
        assert_eq!(found, vec![("age:int", "/data/g/age"), ("pick:select_multiple[]", "/data/r/pick")]);
    }

    #[test]
    fn moved_into_group_and_group_renamed_are_the_same_field() {
        let old = form(
            "| | integer | age | Age |\n| | begin group | g | G |\n| | text | name | Name |\n| | end group | | |\n",
        );
        let new = form(
            "| | begin group | resp | R |\n| | integer | age | Age |\n| | end group | | |\n\
             | | begin group | person | G |\n| | text | name | Name |\n| | end group | | |\n",
        );
        let diff = match_versions(&old, &new, &[]);
        let moved: Vec<(&str, &str)> =
            diff.moved.iter().map(|change| (change.old_path.as_str(), change.new_path.as_str())).collect();
        assert_eq!(moved, vec![("/data/age", "/data/resp/age"), ("/data/g/name", "/data/person/name")]);
        assert!(diff.added.is_empty() && diff.removed.is_empty() && diff.retyped.is_empty());
        assert!(diff.to_string().contains("moved: `age:int` from /data/age to /data/resp/age"));
    }

    #[test]
    fn label_change_keeps_the_field() {
        let old = form("| | integer | age | Age |\n");
        let new = form("| | integer | age | Age in years |\n");
        let diff = match_versions(&old, &new, &[]);
        assert_eq!(diff.same.len(), 1);
        assert_eq!(diff.relabelled.len(), 1);
        assert!(diff.is_unchanged());
        assert!(diff.to_string().contains("relabelled: `age:int` from \"Age\" to \"Age in years\""), "{diff}");
    }

    #[test]
    fn explicit_rename_and_type_change() {
        let old = form("| | integer | hh_size | Size |\n| | integer | age | Age |\n| | text | x | X |\n");
        let new = form("| | integer | household_size | Size |\n| | decimal | age | Age |\n| | integer | x | X |\n");
        let diff = match_versions(&old, &new, &[("hh_size".to_owned(), "household_size".to_owned())]);
        assert_eq!(diff.renamed.len(), 1);
        assert_eq!(diff.renamed[0].old_key, "hh_size:int");
        assert_eq!(diff.renamed[0].new_key, "household_size:int");
        let retyped: Vec<(&str, &str)> =
            diff.retyped.iter().map(|change| (change.old_key.as_str(), change.new_key.as_str())).collect();
        assert_eq!(retyped, vec![("age:int", "age:decimal"), ("x:string", "x:int")]);
        assert!(diff.same.is_empty());
        let text = diff.to_string();
        assert!(text.contains("renamed: `hh_size:int` to `household_size:int`"), "{text}");
        assert!(text.contains("retyped, so a different field: `age:int`"), "{text}");
    }

    #[test]
    fn added_removed_and_duplicate_names() {
        let old = form("| | text | a | A |\n| | text | gone | G |\n");
        let new = form(
            "| | text | a | A |\n| | geopoint | where | W |\n\
             | | begin repeat | r | R |\n| | integer | where_count | C |\n| | end repeat | | |\n",
        );
        let diff = match_versions(&old, &new, &[]);
        let added: Vec<&str> = diff.added.iter().map(|key| key.key.as_str()).collect();
        assert_eq!(added, vec!["where:geopoint", "where_count:int[]"]);
        assert_eq!(diff.removed.len(), 1);
        assert_eq!(diff.removed[0].key, "gone:string");
        assert!(diff.to_string().contains("removed: `gone:string` from /data/gone"));

        let twice = Form {
            fields: vec![group("g1", vec![question("name")]), group("g2", vec![question("name")])],
            root: "data".to_owned(),
            ..Form::default()
        };
        let keys = field_keys(&twice);
        assert_eq!(keys[0].key, "g1/name:string");
        assert!(keys[1].qualified);
        let diff = match_versions(&twice, &twice, &[]);
        assert_eq!(diff.same.len(), 2);
        assert_eq!(diff.notes.len(), 2);
    }

    fn question(name: &str) -> Field {
        Field { name: name.to_owned(), kind: Some(Kind::Question(QuestionType::Text)), ..Field::default() }
    }

    fn group(name: &str, children: Vec<Field>) -> Field {
        Field { name: name.to_owned(), kind: Some(Kind::Group), children, ..Field::default() }
    }
}
