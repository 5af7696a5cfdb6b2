//! What the integration tests share.

use twine_web::{presets, Scenario};

/// Every preset as shipped and each of its variants: (`preset` or `preset/variant`, its scenario).
pub fn every_preset_scenario() -> Vec<(String, Scenario)> {
    let mut all = Vec::new();
    for preset in presets::all() {
        let load = |variant: Option<&str>| preset.scenario(variant).unwrap_or_else(|e| panic!("{}: {e}", preset.name));
        all.push((preset.name.to_owned(), load(None)));
        for variant in preset.variants() {
            all.push((format!("{}/{}", preset.name, variant.name), load(Some(&variant.name))));
        }
    }
    all
}
