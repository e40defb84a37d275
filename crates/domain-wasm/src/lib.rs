//! `apoyo_domain::check_credential` for the capture app, as a WebAssembly module with a
//! C ABI (no wasm-bindgen): the page writes the credential JSON into the input buffer,
//! calls `check`, and reads the report JSON from the output buffer.
//!
//! ```text
//! ptr = input_buffer(len)          // room for `len` bytes of UTF-8 JSON
//! (write the bytes at ptr)
//! status = check(len, 20261128)    // reference date as YYYYMMDD
//! read output_len() bytes at output_ptr()
//! ```
//!
//! `status` is 0 (the report is a `CredentialReport`) or 1 (the input is unusable: the
//! output is `{"error": "<Spanish message>"}`). The buffers live in the module, so no
//! pointer from the page is ever dereferenced by Rust.

use std::cell::RefCell;

use apoyo_domain::outcome::RollOutcome;
use apoyo_domain::{CredentialInput, Date, check_credential};
use serde::Serialize;

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

#[derive(Serialize)]
struct Refusal {
    error: String,
}

/// Checks one credential given as the JSON of `docs/credential-input.md`, at the reference
/// date `YYYYMMDD`. Returns the report as JSON, or a Spanish refusal.
pub fn check_json(input: &[u8], reference: u32) -> Result<String, String> {
    let date = i32::try_from(reference / 10_000)
        .ok()
        .zip(u8::try_from(reference / 100 % 100).ok())
        .zip(u8::try_from(reference % 100).ok())
        .and_then(|((y, m), d)| Date::new(y, m, d))
        .ok_or_else(|| "La fecha de referencia no es válida.".to_owned())?;
    let input: CredentialInput = serde_json::from_slice(input)
        .map_err(|e| format!("Los datos de la credencial no se pueden leer: {e}"))?;
    serde_json::to_string(&check_credential(&input, date))
        .map_err(|e| format!("No se pudo preparar el reporte: {e}"))
}

/// Makes the input buffer `len` bytes long (zeroed) and returns its address.
#[allow(unsafe_code)] // an exported symbol; nothing unsafe is done
#[unsafe(no_mangle)]
pub extern "C" fn input_buffer(len: usize) -> *mut u8 {
    INPUT.with_borrow_mut(|buf| {
        buf.clear();
        buf.resize(len, 0);
        buf.as_mut_ptr()
    })
}

/// Checks the first `len` bytes of the input buffer; 0 = report, 1 = refusal.
#[allow(unsafe_code)] // an exported symbol; nothing unsafe is done
#[unsafe(no_mangle)]
pub extern "C" fn check(len: usize, reference_yyyymmdd: u32) -> u32 {
    let result = INPUT.with_borrow(|buf| {
        let end = len.min(buf.len());
        check_json(&buf[..end], reference_yyyymmdd)
    });
    let (status, text) = match result {
        Ok(report) => (0, report),
        Err(error) => (
            1,
            serde_json::to_string(&Refusal { error })
                .unwrap_or_else(|_| r#"{"error":"Error interno."}"#.to_owned()),
        ),
    };
    OUTPUT.with_borrow_mut(|out| *out = text.into_bytes());
    status
}

/// The Spanish label of the outcome code in the first `len` bytes of the input buffer
/// (e.g. `removed:defuncion`); 0 = label in the output buffer, 1 = unknown code.
#[allow(unsafe_code)] // an exported symbol; nothing unsafe is done
#[unsafe(no_mangle)]
pub extern "C" fn outcome_label(len: usize) -> u32 {
    let label = INPUT.with_borrow(|buf| {
        std::str::from_utf8(&buf[..len.min(buf.len())])
            .ok()
            .and_then(RollOutcome::from_code)
            .map(RollOutcome::label_es)
    });
    let status = u32::from(label.is_none());
    OUTPUT.with_borrow_mut(|out| *out = label.unwrap_or_default().into_bytes());
    status
}

#[allow(unsafe_code)] // an exported symbol; nothing unsafe is done
#[unsafe(no_mangle)]
pub extern "C" fn output_ptr() -> *const u8 {
    OUTPUT.with_borrow(|out| out.as_ptr())
}

#[allow(unsafe_code)] // an exported symbol; nothing unsafe is done
#[unsafe(no_mangle)]
pub extern "C" fn output_len() -> usize {
    OUTPUT.with_borrow(|out| out.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn checks_through_the_buffers() {
        let json = br#"{"mrz":["IDMEX1234567897<<0405123456789","8501019M3512311MEX<02<<12345<9","PEREZ<LOPEZ<<MARIA<GUADALUPE<<"]}"#;
        let ptr = input_buffer(json.len());
        assert!(!ptr.is_null());
        INPUT.with_borrow_mut(|b| b.copy_from_slice(json));
        assert_eq!(check(json.len(), 20261128), 0);
        let out = OUTPUT.with_borrow(|o| String::from_utf8(o.clone()).unwrap());
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["valid"], true);
        assert_eq!(report["reference_date"], "2026-11-28");
    }

    #[test]
    fn labels_outcomes() {
        let code = b"removed:defuncion";
        input_buffer(code.len());
        INPUT.with_borrow_mut(|b| b.copy_from_slice(code));
        assert_eq!(outcome_label(code.len()), 0);
        let out = OUTPUT.with_borrow(|o| String::from_utf8(o.clone()).unwrap());
        assert_eq!(out, "Baja del padrón: Defunción");
        input_buffer(4);
        assert_eq!(outcome_label(4), 1);
    }

    #[test]
    fn refuses_unknown_fields_and_bad_dates() {
        assert!(check_json(br#"{"cick":"1"}"#, 20261128).is_err());
        assert!(check_json(b"{}", 20261331).is_err());
    }
}
