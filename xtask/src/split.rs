//! Splits the light wasm module in two by a profile: the functions the
//! page's preset runs call stay in the module every first load fetches; the
//! rest move to a cold half that the page fetches after Run is possible, or
//! at once when one of them is first called (www/js/cold-half.js). The
//! light module runs only the compiled presets, so the profile (V8's own
//! record of the functions it compiled, each on its first call: see
//! `xtask/web/profile-light.mjs`) covers nearly all it will ever do; a miss
//! costs one fetch, never a wrong result.
//!
//! The split is binaryen's `wasm-split` design, which npm's binaryen does
//! not ship:
//! - the primary keeps every function's index; a cold function's body
//!   becomes a stub that calls the table's last slot (the loader, which the
//!   page puts there) and then the real function through its own slot, so
//!   calls, exports and the table's entries that name it keep working;
//! - the cold half imports the memory, the tables, the globals and the hot
//!   functions it calls from the primary (exported as `s:m` and the build's
//!   hash, `s:t0`.., `s:g0`.., `s:fN`), and its element segment puts its
//!   functions in the slots the stubs call.

use std::collections::{BTreeMap, HashSet};

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, ElementSection, Elements, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    ImportSection, Instruction, Module, RawSection, TableSection, TableType,
};
use wasmparser::{FunctionBody, Operator, Parser, Payload, TypeRef};

/// The two halves.
pub(crate) struct Halves {
    pub primary: Vec<u8>,
    pub cold: Vec<u8>,
    /// How many functions moved.
    pub moved: usize,
}

/// What the split needs to know of the input module.
#[derive(Default)]
struct Input<'a> {
    /// Each function's type index, imports first.
    func_types: Vec<u32>,
    imported_funcs: u32,
    tables: Vec<wasmparser::TableType>,
    memory: Option<wasmparser::MemoryType>,
    globals: Vec<wasmparser::GlobalType>,
    bodies: Vec<FunctionBody<'a>>,
    /// The type section's bytes, copied to both halves.
    types: Option<(u8, std::ops::Range<usize>)>,
    /// A type `[] -> []`, for the loader.
    nullary: Option<u32>,
    /// Each type's parameter count.
    type_params: Vec<u32>,
}

fn read(wasm: &[u8]) -> Result<Input<'_>, String> {
    let err = |e: wasmparser::BinaryReaderError| format!("reading the light module: {e}");
    let mut input = Input::default();
    let mut type_index = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(err)? {
            Payload::TypeSection(reader) => {
                input.types = Some((wasm_encoder::SectionId::Type as u8, reader.range()));
                for group in reader {
                    for ty in group.map_err(err)?.into_types() {
                        let mut params = 0;
                        if let wasmparser::CompositeInnerType::Func(f) = &ty.composite_type.inner {
                            if f.params().is_empty() && f.results().is_empty() && input.nullary.is_none() {
                                input.nullary = Some(type_index);
                            }
                            params = f.params().len() as u32;
                        }
                        input.type_params.push(params);
                        type_index += 1;
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import.map_err(err)?.ty {
                        TypeRef::Func(ty) => {
                            input.func_types.push(ty);
                            input.imported_funcs += 1;
                        }
                        _ => return Err("the light module imports more than functions: not split".into()),
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    input.func_types.push(ty.map_err(err)?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(err)?;
                    if !matches!(table.init, wasmparser::TableInit::RefNull) {
                        return Err("a table with an initialiser: not split".into());
                    }
                    input.tables.push(table.ty);
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    if input.memory.replace(memory.map_err(err)?).is_some() {
                        return Err("more than one memory: not split".into());
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    input.globals.push(global.map_err(err)?.ty);
                }
            }
            Payload::CodeSectionEntry(body) => input.bodies.push(body),
            _ => {}
        }
    }
    Ok(input)
}

/// FNV-1a, 64 bits: a name for this build of the module.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The funcref table the stubs call through: the first one.
fn funcref_table(input: &Input) -> Result<u32, String> {
    input
        .tables
        .iter()
        .position(|t| t.element_type == wasmparser::RefType::FUNCREF && !t.table64)
        .map(|i| i as u32)
        .ok_or_else(|| "the light module has no funcref table: not split".to_string())
}

/// The cold half's view of the function index space: hot functions the
/// cold ones call are its imports, then the cold ones, in order.
struct ColdIndices {
    /// Primary function index -> cold half's.
    map: BTreeMap<u32, u32>,
    /// The hot functions it imports, in import order.
    imports: Vec<u32>,
}

impl Reencode for ColdIndices {
    type Error = String;

    fn function_index(&mut self, func: u32) -> Result<u32, wasm_encoder::reencode::Error<String>> {
        self.map.get(&func).copied().ok_or_else(|| {
            wasm_encoder::reencode::Error::UserError(format!("function {func} is neither imported nor moved"))
        })
    }

    fn data_index(&mut self, _: u32) -> Result<u32, wasm_encoder::reencode::Error<String>> {
        Err(wasm_encoder::reencode::Error::UserError("a cold function uses a data segment: not split".into()))
    }

    fn element_index(&mut self, _: u32) -> Result<u32, wasm_encoder::reencode::Error<String>> {
        Err(wasm_encoder::reencode::Error::UserError("a cold function uses an element segment: not split".into()))
    }
}

/// Splits `wasm`, keeping the functions in `hot` (indices in the module's
/// function index space, imports included) in the primary.
pub(crate) fn split(wasm: &[u8], hot: &HashSet<u32>) -> Result<Halves, String> {
    let input = read(wasm)?;
    let table = funcref_table(&input)?;
    let nullary = input.nullary.ok_or("the light module has no `[] -> []` type for the loader")?;
    let first = input.imported_funcs;
    let cold: Vec<u32> = (first..input.func_types.len() as u32).filter(|f| !hot.contains(f)).collect();
    let old_size = input.tables[table as usize].initial as u32;
    // Slots old_size.. hold the cold functions, the last one the loader.
    let loader_slot = old_size + cold.len() as u32;
    let new_size = loader_slot + 1;

    // The hot functions the cold ones call, which the cold half imports.
    let cold_set: HashSet<u32> = cold.iter().copied().collect();
    let mut indices = ColdIndices { map: BTreeMap::new(), imports: Vec::new() };
    for &f in &cold {
        let body = &input.bodies[(f - first) as usize];
        let mut ops = body.get_operators_reader().map_err(|e| e.to_string())?;
        while !ops.eof() {
            let callee = match ops.read().map_err(|e| e.to_string())? {
                Operator::Call { function_index } | Operator::ReturnCall { function_index } => function_index,
                Operator::RefFunc { function_index } => function_index,
                _ => continue,
            };
            if !cold_set.contains(&callee) && !indices.map.contains_key(&callee) {
                indices.map.insert(callee, indices.imports.len() as u32);
                indices.imports.push(callee);
            }
        }
    }
    for (k, &f) in cold.iter().enumerate() {
        indices.map.insert(f, (indices.imports.len() + k) as u32);
    }

    // The memory's name carries the build: a cold half from another build
    // (a page open across a rebuild) fails to link, loudly, instead of
    // putting another build's functions in the slots.
    let layout = Layout { memory: format!("s:m{:016x}", fnv1a(wasm)), table, old_size, new_size, nullary };
    let primary = primary(wasm, &input, &cold_set, &indices.imports, &layout)?;
    let cold_half = cold_half(wasm, &input, &cold, &mut indices, &layout)?;
    Ok(Halves { primary, cold: cold_half, moved: cold.len() })
}

/// Where the halves meet.
struct Layout {
    /// The memory's export name.
    memory: String,
    /// The funcref table the stubs call through.
    table: u32,
    /// Its size before the split: the first moved function's slot.
    old_size: u32,
    /// Its size after: the last slot is the loader's.
    new_size: u32,
    /// The type `[] -> []`, the loader's.
    nullary: u32,
}

/// The module with the cold functions' bodies replaced by stubs, its table
/// grown by their slots and the loader's, and what the cold half imports
/// exported.
fn primary(
    wasm: &[u8],
    input: &Input,
    cold: &HashSet<u32>,
    cold_imports: &[u32],
    layout: &Layout,
) -> Result<Vec<u8>, String> {
    let Layout { ref memory, table, old_size, new_size, nullary } = *layout;
    let err = |e: wasmparser::BinaryReaderError| e.to_string();
    let mut module = Module::new();
    let mut rt = RoundtripReencoder;
    let mut code = CodeSection::new();
    let mut slot = old_size;
    let first = input.imported_funcs;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(err)?;
        match &payload {
            Payload::TableSection(_) => {
                let mut tables = TableSection::new();
                for (i, t) in input.tables.iter().enumerate() {
                    let mut ty: TableType = rt.table_type(*t).map_err(|e| e.to_string())?;
                    if i as u32 == table {
                        ty.minimum = u64::from(new_size);
                        ty.maximum = ty.maximum.map(|m| m.max(u64::from(new_size)));
                    }
                    tables.table(ty);
                }
                module.section(&tables);
            }
            Payload::ExportSection(reader) => {
                let mut exports = ExportSection::new();
                for export in reader.clone() {
                    let export = export.map_err(err)?;
                    exports.export(export.name, rt.export_kind(export.kind).map_err(|e| e.to_string())?, export.index);
                }
                exports.export(memory, ExportKind::Memory, 0);
                // The table whose last slot is the loader's.
                exports.export("s:l", ExportKind::Table, table);
                for t in 0..input.tables.len() as u32 {
                    exports.export(&format!("s:t{t}"), ExportKind::Table, t);
                }
                for g in 0..input.globals.len() as u32 {
                    exports.export(&format!("s:g{g}"), ExportKind::Global, g);
                }
                for &f in cold_imports {
                    exports.export(&format!("s:f{f}"), ExportKind::Func, f);
                }
                module.section(&exports);
            }
            Payload::CodeSectionStart { .. } => {}
            Payload::CodeSectionEntry(body) => {
                let index = first + code.len();
                if cold.contains(&index) {
                    code.function(&stub(input, index, table, slot, new_size - 1, nullary));
                    slot += 1;
                } else {
                    code.raw(&wasm[body.range()]);
                }
                if code.len() as usize == input.bodies.len() {
                    module.section(&code);
                }
            }
            // Custom sections (the producers, the target features) are for
            // tools: the browser has no use for them.
            Payload::End(_) | Payload::Version { .. } | Payload::CustomSection(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&RawSection { id, data: &wasm[range] });
                }
            }
        }
    }
    Ok(module.finish())
}

/// A cold function's body in the primary: make sure the cold half is
/// there (the loader's slot), then call the function in its slot with the
/// same arguments.
fn stub(input: &Input, index: u32, table: u32, slot: u32, loader_slot: u32, nullary: u32) -> Function {
    let ty = input.func_types[index as usize];
    let params = input.type_params[ty as usize];
    let mut f = Function::new([]);
    f.instruction(&Instruction::I32Const(loader_slot as i32));
    f.instruction(&Instruction::CallIndirect { type_index: nullary, table_index: table });
    for p in 0..params {
        f.instruction(&Instruction::LocalGet(p));
    }
    f.instruction(&Instruction::I32Const(slot as i32));
    f.instruction(&Instruction::CallIndirect { type_index: ty, table_index: table });
    f.instruction(&Instruction::End);
    f
}

/// The cold functions as a module of their own, importing what they use
/// from the primary.
fn cold_half(
    wasm: &[u8],
    input: &Input,
    cold: &[u32],
    indices: &mut ColdIndices,
    layout: &Layout,
) -> Result<Vec<u8>, String> {
    let Layout { memory: ref memory_name, table, old_size, new_size, .. } = *layout;
    let mut rt = RoundtripReencoder;
    let mut module = Module::new();
    let (id, range) = input.types.clone().ok_or("the light module has no type section")?;
    module.section(&RawSection { id, data: &wasm[range] });

    let mut imports = ImportSection::new();
    let memory = input.memory.ok_or("the light module has no memory")?;
    imports.import("p", memory_name, EntityType::Memory(rt.memory_type(memory).map_err(|e| e.to_string())?));
    for (t, ty) in input.tables.iter().enumerate() {
        let mut ty: TableType = rt.table_type(*ty).map_err(|e| e.to_string())?;
        if t as u32 == table {
            ty.minimum = u64::from(new_size);
            ty.maximum = ty.maximum.map(|m| m.max(u64::from(new_size)));
        }
        imports.import("p", &format!("s:t{t}"), EntityType::Table(ty));
    }
    for (g, ty) in input.globals.iter().enumerate() {
        imports.import("p", &format!("s:g{g}"), EntityType::Global(rt.global_type(*ty).map_err(|e| e.to_string())?));
    }
    for &f in &indices.imports {
        imports.import("p", &format!("s:f{f}"), EntityType::Function(input.func_types[f as usize]));
    }
    module.section(&imports);

    let mut functions = FunctionSection::new();
    for &f in cold {
        functions.function(input.func_types[f as usize]);
    }
    module.section(&functions);

    let mut elements = ElementSection::new();
    let own: Vec<u32> = (0..cold.len() as u32).map(|k| indices.imports.len() as u32 + k).collect();
    elements.active(
        Some(table),
        &ConstExpr::i32_const(old_size as i32),
        Elements::Functions(std::borrow::Cow::Borrowed(&own)),
    );
    module.section(&elements);

    let mut code = CodeSection::new();
    for &f in cold {
        let body = input.bodies[(f - input.imported_funcs) as usize].clone();
        indices.parse_function_body(&mut code, body).map_err(|e| format!("moving function {f}: {e}"))?;
    }
    module.section(&code);
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{GlobalSection, GlobalType, MemorySection, MemoryType, RefType, TypeSection, ValType};

    /// A module like rustc's: an imported function, a table, a memory, the
    /// stack pointer, and four functions: 1 (hot) calls 2 (cold), which
    /// calls 3 (hot) and 4 (cold); 2 is exported and in the table.
    fn module() -> Vec<u8> {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        types.ty().function([ValType::I32, ValType::I32], [ValType::I32]);
        m.section(&types);
        let mut imports = ImportSection::new();
        imports.import("env", "log", EntityType::Function(0));
        m.section(&imports);
        let mut functions = FunctionSection::new();
        for ty in [1, 1, 1, 0] {
            functions.function(ty);
        }
        m.section(&functions);
        let mut tables = TableSection::new();
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 2,
            maximum: Some(2),
            shared: false,
        });
        m.section(&tables);
        let mut memories = MemorySection::new();
        memories.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
        m.section(&memories);
        let mut globals = GlobalSection::new();
        globals
            .global(GlobalType { val_type: ValType::I32, mutable: true, shared: false }, &ConstExpr::i32_const(1024));
        m.section(&globals);
        let mut exports = ExportSection::new();
        exports.export("two", ExportKind::Func, 2);
        exports.export("memory", ExportKind::Memory, 0);
        m.section(&exports);
        let mut elements = ElementSection::new();
        elements.active(Some(0), &ConstExpr::i32_const(1), Elements::Functions(std::borrow::Cow::Borrowed(&[2])));
        m.section(&elements);
        let mut code = CodeSection::new();
        let mut f1 = Function::new([]);
        f1.instructions().local_get(0).local_get(1).call(2).end();
        let mut f2 = Function::new([(1, ValType::I32)]);
        f2.instructions()
            .global_get(0)
            .local_set(2)
            .call(4)
            .call(0)
            .local_get(0)
            .local_get(1)
            .call(3)
            .local_get(2)
            .i32_add()
            .end();
        let mut f3 = Function::new([]);
        f3.instructions().local_get(0).local_get(1).i32_mul().end();
        let mut f4 = Function::new([]);
        f4.instructions()
            .i32_const(8)
            .i32_const(1)
            .i32_store(wasm_encoder::MemArg { offset: 0, align: 2, memory_index: 0 })
            .end();
        for f in [&f1, &f2, &f3, &f4] {
            code.function(f);
        }
        m.section(&code);
        m.finish()
    }

    fn imports_of(wasm: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::ImportSection(reader) = payload.unwrap() {
                for import in reader.into_imports() {
                    names.push(import.unwrap().name.to_string());
                }
            }
        }
        names
    }

    #[test]
    fn the_cold_functions_move_and_both_halves_are_valid() {
        let wasm = module();
        wasmparser::Validator::new().validate_all(&wasm).unwrap();
        let halves = split(&wasm, &HashSet::from([0, 1, 3])).unwrap();
        assert_eq!(halves.moved, 2, "functions 2 and 4 move");
        wasmparser::Validator::new().validate_all(&halves.primary).unwrap();
        wasmparser::Validator::new().validate_all(&halves.cold).unwrap();
        // The cold half takes the memory, the table, the global and the
        // two functions it calls that stayed (the import, 3) from the primary.
        let memory = format!("s:m{:016x}", fnv1a(&wasm));
        assert_eq!(imports_of(&halves.cold), [memory.as_str(), "s:t0", "s:g0", "s:f0", "s:f3"]);
        // Function 2 in the primary is a stub that calls the loader's slot
        // (the table's last: its 2 slots, 2 for the moved functions, 1 for
        // the loader) and then, with its arguments, the function's own slot.
        let mut bodies = Vec::new();
        let mut table_size = 0;
        for payload in Parser::new(0).parse_all(&halves.primary) {
            match payload.unwrap() {
                Payload::CodeSectionEntry(body) => {
                    let ops: Vec<String> = body
                        .get_operators_reader()
                        .unwrap()
                        .into_iter()
                        .map(|op| format!("{:?}", op.unwrap()))
                        .collect();
                    bodies.push(ops);
                }
                Payload::TableSection(reader) => table_size = reader.into_iter().next().unwrap().unwrap().ty.initial,
                _ => {}
            }
        }
        assert_eq!(table_size, 5);
        assert_eq!(
            bodies[1],
            [
                "I32Const { value: 4 }",
                "CallIndirect { type_index: 0, table_index: 0 }",
                "LocalGet { local_index: 0 }",
                "LocalGet { local_index: 1 }",
                "I32Const { value: 2 }",
                "CallIndirect { type_index: 1, table_index: 0 }",
                "End"
            ]
        );
        // The functions that stayed are as they were.
        assert_eq!(bodies[0].len(), 4);
        assert_eq!(bodies[2].len(), 4);
    }

    #[test]
    fn nothing_moves_when_everything_was_called() {
        let wasm = module();
        let halves = split(&wasm, &HashSet::from([0, 1, 2, 3, 4])).unwrap();
        assert_eq!(halves.moved, 0);
        wasmparser::Validator::new().validate_all(&halves.primary).unwrap();
        wasmparser::Validator::new().validate_all(&halves.cold).unwrap();
    }
}
