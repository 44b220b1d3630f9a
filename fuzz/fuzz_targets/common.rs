//! What the Kitfile targets share.

use mkbuild_kitfile::Kitfile;
use serde_json::Value;

/// `kitfile` with every number of its free-form parameters as Go reads it back: a float64. The
/// config JSON writes numbers as kit's Go does (`1.0` as `1`), so serde_json reads back an
/// integer where there was a float: the same number, another `Value`.
pub fn as_go_reads_it(kitfile: &Kitfile) -> Kitfile {
    fn floats(v: &mut Value) {
        match v {
            Value::Number(n) => {
                if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                    *n = f;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(floats),
            Value::Object(map) => map.values_mut().for_each(floats),
            _ => {}
        }
    }
    let mut k = kitfile.clone();
    if let Some(model) = &mut k.model {
        model.parameters.iter_mut().for_each(floats);
    }
    for dataset in &mut k.datasets {
        dataset.parameters.iter_mut().for_each(floats);
    }
    k
}

/// The config JSON of `kitfile` reads back to the same Kitfile (numbers compared as Go reads
/// them) and writes the same bytes again.
pub fn check_config_round_trip(kitfile: &Kitfile) {
    let json = kitfile.to_config_json();
    let text = String::from_utf8_lossy(&json);
    let back = Kitfile::from_config_json(&json)
        .unwrap_or_else(|e| panic!("written config reads back: {e}\n{text}"));
    assert_eq!(
        as_go_reads_it(&back),
        as_go_reads_it(kitfile),
        "config round trip\n{text}"
    );
    assert_eq!(
        back.to_config_json(),
        json,
        "config bytes are a fixed point\n{text}"
    );
}
