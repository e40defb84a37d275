// The collector's checks: apoyo_domain::check_credential compiled to WebAssembly
// (crates/domain-wasm), the same code as `apoyo credential check` and the server.

let exportsPromise = null;

function load() {
  if (!exportsPromise) {
    exportsPromise = (async () => {
      const response = fetch('checks.wasm');
      let result;
      try {
        result = await WebAssembly.instantiateStreaming(response, {});
      } catch {
        // A cache or proxy that lost the content type: compile from the bytes.
        const bytes = await (await fetch('checks.wasm')).arrayBuffer();
        result = await WebAssembly.instantiate(bytes, {});
      }
      return result.instance.exports;
    })();
    exportsPromise.catch(() => { exportsPromise = null; });
  }
  return exportsPromise;
}

export const ready = () => load().then(() => true, () => false);

/** Checks the credential input (docs/credential-input.md) at `reference` (YYYYMMDD). */
export async function checkCredential(input, reference) {
  const wasm = await load();
  const bytes = new TextEncoder().encode(JSON.stringify(input));
  const ptr = wasm.input_buffer(bytes.length);
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  const status = wasm.check(bytes.length, reference);
  const out = new Uint8Array(wasm.memory.buffer, wasm.output_ptr(), wasm.output_len());
  const json = JSON.parse(new TextDecoder().decode(out));
  if (status !== 0) throw new Error(json.error);
  return json;
}

/** Codes the server refuses outright (docs/supports.md): the support cannot be saved. */
export function isBlocking(code) {
  return code.endsWith('.format') || code === 'mrz.lines' || code === 'mrz.characters'
    || code === 'credential.required_identifiers';
}

/** The form fields a check is about, to highlight them. */
export function fieldsOf(code) {
  const [group, rule] = code.split('.');
  switch (group) {
    case 'mrz': return ['mrz'];
    case 'clave': return ['clave_elector'];
    case 'curp': return ['curp'];
    case 'model': return ['model'];
    case 'names': return ['paternal_surname', 'maternal_surname', 'given_names'];
    case 'credential':
      return {
        required_identifiers: ['cic', 'citizen_id', 'ocr'],
        birth_date_consistent: ['birth_date', 'clave_elector', 'curp'],
        sex_consistent: ['sex', 'clave_elector', 'curp'],
        section_consistent: ['section', 'ocr'],
        citizen_id_consistent: ['citizen_id', 'ocr'],
        mrz_agreement: ['mrz'],
        names_match_mrz: ['paternal_surname', 'maternal_surname', 'given_names', 'mrz'],
        birth_state_consistent: ['clave_elector', 'curp'],
        model_matches_mrz: ['model', 'mrz'],
        validity: ['expiry_date'],
        age: ['birth_date'],
      }[rule] || [];
    default: return [group];
  }
}

/** The Spanish label of a verification outcome code (RollOutcome::label_es). */
export async function outcomeLabel(code) {
  const wasm = await load();
  const bytes = new TextEncoder().encode(code);
  const ptr = wasm.input_buffer(bytes.length);
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  const status = wasm.outcome_label(bytes.length);
  const out = new Uint8Array(wasm.memory.buffer, wasm.output_ptr(), wasm.output_len());
  return status === 0 ? new TextDecoder().decode(out) : code;
}
