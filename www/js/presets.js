// The presets the simulation ships (`wasm.presets()`): the options of a
// picker, and a `preset` or `preset/variant` name resolved to its preset,
// its variant and its scenario JSON.

/** Appends an option per preset to `select`, a preset's variants grouped under its title. */
export function fillPresetOptions(select, presets) {
  for (const p of presets) {
    if (p.variants.length === 0) {
      select.append(new Option(p.title, p.name));
    } else {
      const group = document.createElement('optgroup');
      group.label = p.title;
      for (const v of p.variants) group.append(new Option(v.title, `${p.name}/${v.name}`));
      select.append(group);
    }
  }
}

/** `{preset, variant}` named by `spec` (`variant` undefined for none or an unknown one), or null. */
export function findPreset(presets, spec) {
  const [name, variant] = spec.split('/');
  const preset = presets.find((p) => p.name === name);
  if (!preset) return null;
  return { preset, variant: preset.variants.find((v) => v.name === variant) };
}

/** The scenario JSON `spec` names. Throws a ScenarioError for an unknown preset or variant. */
export function presetJson(wasm, spec) {
  const [name, variant] = spec.split('/');
  return wasm.presetScenario(name, variant);
}
