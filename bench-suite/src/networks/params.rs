//! The parameters of a network file, evaluated on demand (in any order, cycles refused),
//! with the command line's flags replacing the values they are bound to; and the checked
//! evaluation of a field's quantity (dimension and range), whose errors name the file,
//! the key and what was expected.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::expr::{self, Dim, Value};
use super::file::{NetworkFile, Parameter, Quantity};
use crate::limits::{self, Limit};

/// The flags a parameter can be bound to: name, range of the number given, its minimum
/// (0 inclusive, or just above 0). `priming` is bound to `[plastic] priming`.
pub const FLAGS: [(&str, Limit, f64); 5] = [
    ("w-exc", limits::WEIGHT, 0.0),
    (
        "w-inh",
        Limit {
            flag: "w-inh",
            ..limits::WEIGHT
        },
        0.0,
    ),
    ("input-rate", limits::INPUT_RATE, 0.0),
    ("learning-rate", limits::LEARNING_RATE, 0.0),
    ("tau-hom", limits::TAU_HOM, f64::MIN_POSITIVE),
];

/// A value's accepted range, as [`Limit`] without the flag.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub min: f64,
    pub open_min: bool,
    pub max: f64,
}

impl Range {
    pub const fn closed(min: f64, max: f64) -> Range {
        Range {
            min,
            open_min: false,
            max,
        }
    }
    pub const fn above(min: f64, max: f64) -> Range {
        Range {
            min,
            open_min: true,
            max,
        }
    }
    pub fn contains(&self, x: f64) -> bool {
        let above = if self.open_min {
            x > self.min
        } else {
            x >= self.min
        };
        x.is_finite() && above && x <= self.max
    }
    /// "in (0.0, 10000.0] s".
    pub fn show(&self, unit: &str) -> String {
        let open = if self.open_min { '(' } else { '[' };
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        let show = |x: f64| match x {
            x if x == f32::MAX as f64 => "3.4e38 (finite in f32)".to_string(),
            x if x == -(f32::MAX as f64) => "-3.4e38".to_string(),
            x => format!("{x:?}"),
        };
        format!("in {open}{}, {}]{unit}", show(self.min), show(self.max))
    }
}

/// Where a parameter is defined.
struct Def<'f> {
    param: &'f Parameter,
    /// "parameters" or "plastic.parameters".
    table: &'static str,
}

/// A parameter bound to a flag.
#[derive(Debug, Clone)]
pub struct Binding {
    pub flag: &'static str,
    pub param: String,
    /// Where: "parameters.J".
    pub key: String,
    pub unit: String,
    pub plastic_only: bool,
}

/// The parameters of one file with the overrides of one run.
pub struct Params<'f> {
    pub origin: &'f str,
    defs: BTreeMap<&'f str, Def<'f>>,
    /// Parameter name → the flag's number (in the parameter's unit).
    overrides: BTreeMap<String, f64>,
    cache: RefCell<BTreeMap<String, Value>>,
    visiting: RefCell<Vec<String>>,
    pub bindings: Vec<Binding>,
}

/// Full messages of a network file: "FILE: KEY = VALUE: expected …".
pub fn at(origin: &str, key: &str, what: impl std::fmt::Display) -> String {
    format!("{origin}: {key}: {what}")
}

/// "FILE: KEY = VALUE: WHAT".
pub fn at_value(
    origin: &str,
    key: &str,
    value: impl std::fmt::Display,
    what: impl std::fmt::Display,
) -> String {
    format!("{origin}: {key} = {value}: {what}")
}

impl<'f> Params<'f> {
    /// Reads the definitions and the flags they are bound to (checking names, units and
    /// flags; nothing is evaluated yet).
    pub fn new(origin: &'f str, file: &'f NetworkFile) -> Result<Self, String> {
        let mut p = Params {
            origin,
            defs: BTreeMap::new(),
            overrides: BTreeMap::new(),
            cache: RefCell::new(BTreeMap::new()),
            visiting: RefCell::new(Vec::new()),
            bindings: Vec::new(),
        };
        let plastic = file.plastic.iter().flat_map(|pl| &pl.parameters);
        let all = file
            .parameters
            .iter()
            .map(|d| ("parameters", d))
            .chain(plastic.map(|d| ("plastic.parameters", d)));
        for (table, (name, param)) in all {
            let key = format!("{table}.{name}");
            check_identifier(origin, &key, name)?;
            if let Some(before) = p.defs.get(name.as_str()) {
                return Err(at(
                    origin,
                    &key,
                    format!(
                        "already defined in [{}]: expected each name once",
                        before.table
                    ),
                ));
            }
            if let Parameter::Bound(b) = param {
                if expr::unit(&b.unit).is_none() {
                    return Err(at_value(
                        origin,
                        &format!("{key}.unit"),
                        format!("{:?}", b.unit),
                        format!("expected one of {} (or \"\" for none)", expr::unit_names()),
                    ));
                }
                if let Some(flag) = &b.flag {
                    let Some(&(known, ..)) = FLAGS.iter().find(|(f, ..)| f == flag) else {
                        return Err(at_value(
                            origin,
                            &format!("{key}.flag"),
                            format!("{flag:?}"),
                            format!(
                                "expected one of {} (--priming sets [plastic] priming)",
                                FLAGS.map(|f| f.0).join(", ")
                            ),
                        ));
                    };
                    if let Some(other) = p.bindings.iter().find(|b| b.flag == known) {
                        return Err(at_value(
                            origin,
                            &format!("{key}.flag"),
                            format!("{flag:?}"),
                            format!(
                                "already bound to {}: expected each flag bound once",
                                other.key
                            ),
                        ));
                    }
                    p.bindings.push(Binding {
                        flag: known,
                        param: name.clone(),
                        key: key.clone(),
                        unit: b.unit.clone(),
                        plastic_only: table != "parameters",
                    });
                }
            }
            p.defs.insert(name, Def { param, table });
        }
        Ok(p)
    }

    pub fn binding(&self, flag: &str) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.flag == flag)
    }

    /// The flag's number replaces the parameter bound to it.
    pub fn set(&mut self, param: &str, x: f64) {
        self.overrides.insert(param.to_string(), x);
    }

    /// The value of parameter `name`, seen from inside `[plastic]` or not.
    pub fn get(&self, name: &str, plastic_scope: bool) -> Result<Value, String> {
        let Some(def) = self.defs.get(name) else {
            let known: Vec<&str> = self.defs.keys().copied().collect();
            return Err(format!(
                "unknown parameter '{name}' (expected a number with its unit, or one of this \
                 file's parameters: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        if def.table != "parameters" && !plastic_scope {
            return Err(format!(
                "parameter '{name}' is one of [plastic.parameters]: expected it only inside \
                 [plastic] (or define it in [parameters])"
            ));
        }
        if let Some(v) = self.cache.borrow().get(name) {
            return Ok(*v);
        }
        let key = format!("{}.{name}", def.table);
        if self.visiting.borrow().iter().any(|v| v == name) {
            let chain = self.visiting.borrow().join(" -> ");
            return Err(at(
                self.origin,
                &key,
                format!("refers to itself ({chain} -> {name}): expected a value that does not"),
            ));
        }
        self.visiting.borrow_mut().push(name.to_string());
        let v = self.compute(name, def, &key);
        self.visiting.borrow_mut().pop();
        let v = v?;
        self.cache.borrow_mut().insert(name.to_string(), v);
        Ok(v)
    }

    fn compute(&self, name: &str, def: &Def, key: &str) -> Result<Value, String> {
        let inside = def.table != "parameters";
        let (exp, dim, unit) = match def.param {
            Parameter::Plain(_) => (0, None, ""),
            Parameter::Bound(b) => {
                let (e, d) = expr::unit(&b.unit).expect("checked in new");
                (e, Some(d), b.unit.as_str())
            }
        };
        if let (Some(&x), Some(dim)) = (self.overrides.get(name), dim) {
            return Ok(Value {
                x: expr::shift(x, exp),
                dim,
            });
        }
        let q = def.param.value();
        let value_key = match def.param {
            Parameter::Plain(_) => key.to_string(),
            Parameter::Bound(_) => format!("{key}.value"),
        };
        match (q, dim) {
            (Quantity::Number(x), Some(dim)) => Ok(Value {
                x: expr::shift(*x, exp),
                dim,
            }),
            (_, dim) => {
                let v = self.quantity(&value_key, q, inside)?;
                match dim {
                    Some(d) if d != v.dim => Err(at_value(
                        self.origin,
                        &value_key,
                        q,
                        format!(
                            "{} where unit = {unit:?} says {}: expected the two to agree",
                            v.dim.describe(),
                            d.describe()
                        ),
                    )),
                    _ => Ok(v),
                }
            }
        }
    }

    /// A quantity's value and dimension (errors are full messages).
    pub fn quantity(&self, key: &str, q: &Quantity, plastic_scope: bool) -> Result<Value, String> {
        match q {
            Quantity::Number(x) => Ok(Value {
                x: *x,
                dim: Dim::NONE,
            }),
            Quantity::Text(text) => {
                // A parameter's own error is reported where it is, once.
                let mut inner: Option<String> = None;
                let r = expr::eval(text, &mut |name| {
                    self.get(name, plastic_scope).map_err(|e| {
                        if e.starts_with(self.origin) {
                            inner = Some(e);
                            String::new()
                        } else {
                            e
                        }
                    })
                });
                match (r, inner) {
                    (Ok(v), _) => Ok(v),
                    (Err(_), Some(full)) => Err(full),
                    (Err(e), None) => Err(at_value(self.origin, key, q, e)),
                }
            }
        }
    }

    /// A field's value in SI units, checked to have dimension `dim` and lie in `range`;
    /// `what` says what the field is.
    pub fn field(
        &self,
        key: &str,
        q: &Quantity,
        plastic_scope: bool,
        dim: Dim,
        range: Range,
        what: &str,
    ) -> Result<f64, String> {
        let v = self.quantity(key, q, plastic_scope)?;
        if v.dim != dim {
            let how = match q {
                Quantity::Number(_) => format!(
                    "a plain number has no unit: expected {what}, {} with its unit as a \
                     string (e.g. {})",
                    dim.describe(),
                    dim.example()
                ),
                Quantity::Text(_) => format!(
                    "{}: expected {what}, {} (e.g. {})",
                    v.dim.describe(),
                    dim.describe(),
                    dim.example()
                ),
            };
            return Err(at_value(self.origin, key, q, how));
        }
        if !range.contains(v.x) {
            let shown = match q {
                Quantity::Text(t) if t.trim().parse::<f64>().is_err() => {
                    format!("{q} ({:?} {})", v.x, dim.si())
                }
                _ => q.to_string(),
            };
            return Err(at_value(
                self.origin,
                key,
                shown.replace(" )", ")"),
                format!("expected {what} {}", range.show(dim.si())),
            ));
        }
        Ok(v.x)
    }
}

/// A parameter's name is one word an expression can hold, not a unit.
fn check_identifier(origin: &str, key: &str, name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let word = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_');
    if !word || name.len() > 64 {
        return Err(at(
            origin,
            key,
            "expected a name of letters, digits and _ (not starting with a digit, at most \
             64 bytes)",
        ));
    }
    if expr::unit(name).is_some() {
        return Err(at(
            origin,
            key,
            format!("'{name}' is a unit: expected another name"),
        ));
    }
    Ok(())
}
