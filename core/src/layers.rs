//! Checks the one-way stack that [the crate docs](crate#layers) describe:
//! a module may name only modules of its own layer or below. A lower layer
//! that reaches up (Deferreds naming the reactor, say) fails this test with
//! where and what to do instead.

use std::path::{Path, PathBuf};

/// Bottom-up; modules in one entry are one layer and may name each other.
/// The reactor stands alone: what it hosts (protocols on connections, jobs
/// on a pool) reaches it through traits it defines and the layer above fills.
const LAYERS: &[&[&str]] =
    &[&["time", "trace"], &["defer"], &["reactor"], &["threads", "task", "protocol"], &["protocols"], &["testing"]];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Each `crate::MODULE` a line of code (comments left out) names from a
/// higher layer than `layer`, as `line:col: message`.
fn violations(layer: usize, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = match line.find("//") {
            Some(comment) => &line[..comment],
            None => line,
        };
        let mut rest = code;
        let mut offset = 0;
        while let Some(at) = rest.find("crate::") {
            let name_start = at + "crate::".len();
            let name: String =
                rest[name_start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let higher = layer_of(&name).filter(|&l| l > layer);
            if let Some(higher) = higher {
                found.push(format!(
                    "{}:{}: `crate::{name}` is layer {higher}, above this module's layer {layer}: \
                     inject what is needed from above (a trait this layer defines, set by the higher one) \
                     or move the code up to `{name}`",
                    n + 1,
                    offset + at + 1
                ));
            }
            offset += name_start;
            rest = &rest[name_start..];
        }
    }
    found
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

#[test]
fn no_module_names_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut errors = Vec::new();
    for (layer, modules) in LAYERS.iter().enumerate() {
        for module in *modules {
            let mut files = Vec::new();
            rust_files(&src.join(module), &mut files);
            rust_files(&src.join(format!("{module}.rs")), &mut files);
            assert!(!files.is_empty(), "layer module {module} has no source: update LAYERS in {}", file!());
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                for v in violations(layer, &text) {
                    errors.push(format!("{}:{v}", file.display()));
                }
            }
        }
    }
    assert!(errors.is_empty(), "layering broken:\n{}", errors.join("\n"));
}

#[test]
fn every_module_of_the_crate_has_a_layer() {
    let lib = include_str!("lib.rs");
    for line in lib.lines() {
        let Some(decl) = line.trim().strip_prefix("pub mod ").or_else(|| line.trim().strip_prefix("mod ")) else {
            continue;
        };
        let name = decl.trim_end_matches(';');
        assert!(
            name == "layers" || layer_of(name).is_some(),
            "src/lib.rs: module `{name}` has no layer: add it to LAYERS in {}",
            file!()
        );
    }
}

#[test]
fn the_check_reports_a_reach_upwards_with_where_and_ignores_comments() {
    let source =
        "use super::Failure;\n// see crate::reactor\n    let r = crate::reactor::Reactor::current(); // crate::task\n";
    let found = violations(1, source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("3:13: `crate::reactor` is layer 2"), "{}", found[0]);
    assert!(violations(2, source).is_empty(), "the reactor's own layer may name it");
}
