// The experiments the simulation ships. The page's are Python programs
// (`wasm.programs()`), each with the variants its `twine.variant(...)` offers,
// which a run is given (`new Simulation(text, seed, variant)`); the JSON step
// scenarios (`wasm.presets()`, variants as patches of the JSON) are the lower
// level that old links and Compare name.
//
// A picker value: `name` or `name/variant` for a program, `json:name` or
// `json:name/variant` for a JSON scenario.

export const JSON_PREFIX = 'json:';

function addOptions(parent, presets, prefix, label = (p, v) => v.title) {
  for (const p of presets) {
    if (p.variants.length === 0) {
      parent.append(new Option(p.title, `${prefix}${p.name}`));
    } else {
      const group = document.createElement('optgroup');
      group.label = p.title;
      for (const v of p.variants) group.append(new Option(label(p, v), `${prefix}${p.name}/${v.name}`));
      parent.append(group);
    }
  }
}

/** Appends an option per JSON preset to `select`, a preset's variants grouped under its title (Compare's pickers). */
export function fillPresetOptions(select, presets) {
  addOptions(select, presets, '');
}

/**
 * Fills the experiment picker: the Python programs, a program's variants
 * grouped under its title, then the JSON scenarios in a group of their own.
 * Keeps the value picked, if it is still there.
 */
export function fillPicker(select, programs, jsonPresets) {
  const value = select.value;
  select.replaceChildren();
  addOptions(select, programs, '');
  const group = document.createElement('optgroup');
  group.label = 'JSON step scenarios (the lower level)';
  for (const p of jsonPresets) {
    if (p.variants.length === 0) group.append(new Option(p.title, `${JSON_PREFIX}${p.name}`));
    else for (const v of p.variants) group.append(new Option(`${p.title}: ${v.title}`, `${JSON_PREFIX}${p.name}/${v.name}`));
  }
  select.append(group);
  if (value && [...select.options].some((o) => o.value === value)) select.value = value;
}

/** `{preset, variant}` named by `spec` in `presets` (`variant` undefined for none or an unknown one), or null. */
export function findPreset(presets, spec) {
  const [name, variant] = spec.split('/');
  const preset = presets.find((p) => p.name === name);
  if (!preset) return null;
  return { preset, variant: preset.variants.find((v) => v.name === variant) };
}

/**
 * What a picker value names: `{json, name, variant, preset, variantInfo}`,
 * `json` true for a JSON scenario; null for an unknown preset.
 */
export function describeSpec(spec, programs, jsonPresets) {
  if (!spec) return null;
  const json = spec.startsWith(JSON_PREFIX);
  const bare = json ? spec.slice(JSON_PREFIX.length) : spec;
  const found = findPreset(json ? jsonPresets : programs, bare);
  if (!found) return null;
  const [name, variant] = bare.split('/');
  return { json, name, variant: found.variant ? variant : undefined, preset: found.preset, variantInfo: found.variant };
}

/** The scenario JSON `spec` (a JSON preset's `name` or `name/variant`) names. Throws a ScenarioError for an unknown one. */
export function presetJson(wasm, spec) {
  const [name, variant] = spec.split('/');
  return wasm.presetScenario(name, variant);
}
