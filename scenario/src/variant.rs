//! Variants: a scenario's named variations, each a JSON merge patch
//! (RFC 7396) over the document. Both drivers apply them the same way, so
//! `twine-sim F --variant V` and `twine run F --variant V` run one scenario.

use serde_json::{Map, Value};

use crate::ScenarioError;

/// Turns a scenario document into its variant named `variant`: takes out
/// the `variants` and applies that variant's patch. Returns the variant
/// (its `name`, `title`, `explanation` and `patch`), or `None`, leaving
/// `doc` as it was, when the document has no such variant.
///
/// ```
/// use serde_json::json;
///
/// let mut doc = json!({"machine": {"gil": true}, "variants": [{"name": "free", "patch": {"machine": {"gil": false}}}]});
/// assert!(twine_scenario::apply_variant(&mut doc.clone(), "none").is_none());
/// let variant = twine_scenario::apply_variant(&mut doc, "free").unwrap();
/// assert_eq!(variant["name"], "free");
/// assert_eq!(doc, json!({"machine": {"gil": false}}));
/// ```
pub fn apply_variant(doc: &mut Value, variant: &str) -> Option<Value> {
    let found = doc
        .get("variants")?
        .as_array()?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(variant) && v.get("patch").is_some())?
        .clone();
    if let Some(map) = doc.as_object_mut() {
        map.remove("variants");
    }
    merge_patch(doc, &found["patch"]);
    Some(found)
}

/// Applies a JSON merge patch (RFC 7396): objects merge key by key, `null`
/// removes a key, anything else replaces.
///
/// ```
/// let mut doc = serde_json::json!({"machine": {"cores": 4, "gil": true}, "seed": 3});
/// twine_scenario::merge_patch(&mut doc, &serde_json::json!({"machine": {"gil": false}, "seed": null}));
/// assert_eq!(doc, serde_json::json!({"machine": {"cores": 4, "gil": false}}));
/// ```
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(map) = target.as_object_mut() else { return };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// A scenario file's text with its variant `variant` applied; an unknown
/// variant is an error that lists the ones the file has.
///
/// ```
/// let text = r#"{"seed": 1, "variants": [{"name": "b", "patch": {"seed": 2}}]}"#;
/// assert_eq!(twine_scenario::variant_json(text, "b").unwrap(), r#"{"seed":2}"#);
/// let err = twine_scenario::variant_json(text, "c").unwrap_err();
/// assert_eq!(err.to_string(), "variant: no variant `c` (this scenario has: b)");
/// ```
pub fn variant_json(text: &str, variant: &str) -> Result<String, ScenarioError> {
    let mut doc: Value = serde_json::from_str(text).map_err(|e| ScenarioError::new("", e.to_string()))?;
    if apply_variant(&mut doc, variant).is_none() {
        let names: Vec<&str> = doc
            .get("variants")
            .and_then(Value::as_array)
            .map(|vs| vs.iter().filter_map(|v| v.get("name").and_then(Value::as_str)).collect())
            .unwrap_or_default();
        let message = format!("no variant `{variant}` (this scenario has: {})", names.join(", "));
        return Err(ScenarioError::new("variant", message));
    }
    Ok(doc.to_string())
}
