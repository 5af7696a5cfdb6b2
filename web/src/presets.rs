//! The playground's preset experiments, one JSON scenario file each under
//! `www/presets/`, built into the crate so the page (through wasm),
//! `twine-sim` and the tests all run the same files.
//!
//! A preset may have variants: JSON merge patches (RFC 7396) of its
//! scenario, for side-by-side comparisons. `name/variant` names one.
//!
//! Each preset is also a Python program, `www/presets/NAME.py`, the form the
//! page shows: its docstring is its title and explanation, and its variants
//! are the names its `twine.variant(...)` offers, which a run is given
//! rather than a patch ([`Preset::program_info`]).
//!
//! ```
//! use twine_web::presets;
//!
//! let preset = presets::find("counter-race").unwrap();
//! assert!(!preset.title().is_empty());
//! assert!(preset.variants().iter().any(|v| v.name == "nogil-locked"));
//! let scenario = preset.scenario(Some("nogil-locked")).unwrap();
//! assert_eq!(scenario.spec().machine.gil, false);
//! let (p, v) = presets::resolve("counter-race/nogil-locked").unwrap();
//! assert_eq!((p.name, v), ("counter-race", Some("nogil-locked")));
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
// The variant machinery is the scenario crate's, shared with `twine run`.
pub use twine_scenario::{apply_variant, merge_patch};

use crate::scenario::{Scenario, ScenarioError};

/// A preset scenario file.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// Its name: the file name without `.json`.
    pub name: &'static str,
    /// The same experiment as a Python program (`NAME.py`).
    pub python: &'static str,
}

macro_rules! presets {
    ($($name:literal),* $(,)?) => {
        static PRESETS: [Preset; [$($name),*].len()] =
            [$(Preset { name: $name, python: include_str!(concat!("../../www/presets/", $name, ".py")) }),*];

        /// The JSON file of the preset called `name`. A function rather
        /// than a field, so that a build that never reads the JSON forms
        /// (the light wasm module) leaves their text out.
        fn json_of(name: &str) -> &'static str {
            match name {
                $($name => include_str!(concat!("../../www/presets/", $name, ".json")),)*
                _ => unreachable!("every preset has a JSON file"),
            }
        }
    };
}

presets![
    "sleeping-threads",
    "counter-race",
    "reactor-ordering",
    "deferred-errback",
    "echo-blocking",
    "pool-saturation",
    "gil-cpu-bound",
    "looping-call-drift",
];

/// Every preset, in the order the page lists them.
pub fn all() -> &'static [Preset] {
    &PRESETS
}

/// The preset called `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// Splits `preset` or `preset/variant` and finds them.
pub fn resolve(spec: &str) -> Option<(&'static Preset, Option<&str>)> {
    let (name, variant) = match spec.split_once('/') {
        Some((name, variant)) => (name, Some(variant)),
        None => (spec, None),
    };
    let preset = find(name)?;
    if let Some(v) = variant {
        if !preset.variants().iter().any(|x| x.name == v) {
            return None;
        }
    }
    Some((preset, variant))
}

/// A preset's description, for a picker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresetInfo {
    /// The preset's name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// What it shows and what to look for.
    pub explanation: String,
    /// Its variants.
    pub variants: Vec<VariantInfo>,
}

/// A variant's description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantInfo {
    /// The variant's name.
    pub name: String,
    /// Its title.
    pub title: String,
    /// What it changes, if it says.
    pub explanation: Option<String>,
}

impl Preset {
    /// The JSON file's text.
    pub fn json(&self) -> &'static str {
        json_of(self.name)
    }

    fn value(&self) -> Value {
        serde_json::from_str(self.json()).unwrap_or(Value::Null)
    }

    /// The title.
    pub fn title(&self) -> String {
        text(&self.value(), "title")
    }

    /// The one-paragraph explanation.
    pub fn explanation(&self) -> String {
        text(&self.value(), "explanation")
    }

    /// The variants.
    pub fn variants(&self) -> Vec<VariantInfo> {
        variants(&self.value())
    }

    /// Name, title, explanation and variants.
    pub fn info(&self) -> PresetInfo {
        let value = self.value();
        PresetInfo {
            name: self.name.to_owned(),
            title: text(&value, "title"),
            explanation: text(&value, "explanation"),
            variants: variants(&value),
        }
    }

    /// The Python program's description: its docstring's first line is the
    /// title and the rest the explanation; its variants are what its
    /// `twine.variant(...)` offers (none in a build without the `python`
    /// feature, which cannot parse the program).
    ///
    /// ```
    /// let info = twine_web::presets::find("counter-race").unwrap().program_info();
    /// assert!(info.title.starts_with("Ten threads count"));
    /// assert_eq!(info.variants[1].name, "nogil-locked");
    /// ```
    pub fn program_info(&self) -> PresetInfo {
        program_info(self.name, self.python)
    }

    /// The scenario's JSON: the file as it is, or a variant with its patch
    /// applied (and its own name, title and explanation).
    pub fn scenario_json(&self, variant: Option<&str>) -> Result<String, ScenarioError> {
        let Some(variant) = variant else { return Ok(self.json().to_owned()) };
        let mut doc = self.value();
        let Some(v) = apply_variant(&mut doc, variant) else {
            let known: Vec<String> = self.variants().into_iter().map(|v| v.name).collect();
            return Err(ScenarioError::new(
                "variant",
                format!("preset `{}` has no variant `{variant}` (it has: {})", self.name, known.join(", ")),
            ));
        };
        if let Some(map) = doc.as_object_mut() {
            map.insert("name".into(), Value::String(format!("{}/{variant}", self.name)));
            if let Some(title) = v.get("title") {
                map.insert("title".into(), title.clone());
            }
            if let Some(explanation) = v.get("explanation") {
                map.insert("explanation".into(), explanation.clone());
            }
        }
        serde_json::to_string_pretty(&doc).map_err(|e| ScenarioError::new("", e.to_string()))
    }

    /// The scenario, checked and compiled.
    pub fn scenario(&self, variant: Option<&str>) -> Result<Scenario, ScenarioError> {
        Scenario::from_json(&self.scenario_json(variant)?)
    }
}

/// [`Preset::program_info`] of the program `source` called `name`.
pub fn program_info(name: &str, source: &str) -> PresetInfo {
    let (title, explanation) = docstring(source).unwrap_or_default();
    let variants = crate::python::variants(source)
        .into_iter()
        .map(|(name, title)| VariantInfo { name, title, explanation: None })
        .collect();
    PresetInfo { name: name.to_owned(), title, explanation, variants }
}

/// A Python program's docstring as (title, explanation): the first line,
/// then the paragraphs after it with each one's lines joined, paragraphs
/// apart by a blank line (as the JSON presets' explanations are written).
///
/// ```
/// let src = "\"\"\"Two threads\n\nOne prints,\nthe other too.\n\nThat is all.\n\"\"\"\nprint(1)";
/// let (title, text) = twine_web::presets::docstring(src).unwrap();
/// assert_eq!(title, "Two threads");
/// assert_eq!(text, "One prints, the other too.\n\nThat is all.");
/// assert_eq!(twine_web::presets::docstring("print(1)"), None);
/// ```
pub fn docstring(source: &str) -> Option<(String, String)> {
    // Comments and blank lines may come first; then the string must open the module.
    let mut rest = source.trim_start();
    while let Some(comment) = rest.strip_prefix('#') {
        rest = comment.split_once('\n').map_or("", |(_, after)| after).trim_start();
    }
    let rest = rest.strip_prefix(['r', 'R', 'u', 'U']).unwrap_or(rest);
    let quote = ["\"\"\"", "'''"].into_iter().find(|q| rest.starts_with(q))?;
    let body = &rest[quote.len()..];
    let body = &body[..body.find(quote)?];
    let mut lines = body.trim().lines();
    let title = lines.next().unwrap_or_default().trim().to_owned();
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in lines.chain([""]) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(line.trim());
        }
    }
    Some((title, paragraphs.join("\n\n")))
}

fn text(value: &Value, field: &str) -> String {
    value.get(field).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn variants(value: &Value) -> Vec<VariantInfo> {
    let Some(variants) = value.get("variants").and_then(Value::as_array) else { return Vec::new() };
    variants
        .iter()
        .map(|v| VariantInfo {
            name: text(v, "name"),
            title: text(v, "title"),
            explanation: v.get("explanation").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}
