//! Quantities of network files: numbers with units ("20 ms", "-60 mV", "20 kHz") and
//! arithmetic on them and on named parameters ("3 * J",
//! "eta * theta / (J0 * C_E * tau_m) * C_E"), evaluated in SI units with their dimension
//! checked.
//!
//! A number with a unit is converted by shifting its decimal exponent ("16.8 ms" is read
//! as 16.8e-3), so it is the double nearest to what is written, exactly as the literal
//! `16.8e-3` in Rust; arithmetic is left to right as written (`a * b * c` is
//! `(a * b) * c`), so a formula gives the same bits as the same formula in code.

/// A physical dimension: exponents of seconds and volts (conductances are in units of
/// the leak conductance, so they have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dim {
    pub s: i8,
    pub v: i8,
}

impl Dim {
    pub const NONE: Dim = Dim { s: 0, v: 0 };
    pub const TIME: Dim = Dim { s: 1, v: 0 };
    pub const VOLTAGE: Dim = Dim { s: 0, v: 1 };
    pub const RATE: Dim = Dim { s: -1, v: 0 };

    /// "a time", "a voltage", … for messages.
    pub fn describe(self) -> String {
        match self {
            Dim::NONE => "a number without unit".into(),
            Dim::TIME => "a time".into(),
            Dim::VOLTAGE => "a voltage".into(),
            Dim::RATE => "a rate".into(),
            Dim { s, v } => format!("a quantity in s^{s} V^{v}"),
        }
    }

    /// The SI unit's name ("s", "V", "Hz", "").
    pub fn si(self) -> &'static str {
        match self {
            Dim::TIME => "s",
            Dim::VOLTAGE => "V",
            Dim::RATE => "Hz",
            _ => "",
        }
    }

    /// A unit this dimension is usually written in, for examples in messages.
    pub fn example(self) -> &'static str {
        match self {
            Dim::TIME => "\"20 ms\"",
            Dim::VOLTAGE => "\"-60 mV\"",
            Dim::RATE => "\"5 Hz\"",
            _ => "0.5",
        }
    }

    fn times(self, o: Dim, sign: i8) -> Option<Dim> {
        Some(Dim {
            s: self.s.checked_add(o.s.checked_mul(sign)?)?,
            v: self.v.checked_add(o.v.checked_mul(sign)?)?,
        })
    }
}

/// Units a number may carry: name, decimal exponent, dimension.
pub const UNITS: [(&str, i32, Dim); 9] = [
    ("s", 0, Dim::TIME),
    ("ms", -3, Dim::TIME),
    ("us", -6, Dim::TIME),
    ("µs", -6, Dim::TIME),
    ("V", 0, Dim::VOLTAGE),
    ("mV", -3, Dim::VOLTAGE),
    ("uV", -6, Dim::VOLTAGE),
    ("Hz", 0, Dim::RATE),
    ("kHz", 3, Dim::RATE),
];

/// The decimal exponent and dimension of unit `name` ("" is no unit).
pub fn unit(name: &str) -> Option<(i32, Dim)> {
    if name.is_empty() {
        return Some((0, Dim::NONE));
    }
    UNITS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, e, d)| (e, d))
}

/// The unit names, for messages.
pub fn unit_names() -> String {
    UNITS.map(|(n, _, _)| n).join(", ")
}

/// `x` times 10^`exp`, rounded once: the decimal digits that print `x` with the exponent
/// shifted (so 0.1 at -3 is exactly the double of 0.1e-3).
pub fn shift(x: f64, exp: i32) -> f64 {
    if exp == 0 || x == 0.0 || !x.is_finite() {
        return x;
    }
    let text = format!("{x:e}");
    let (mantissa, e) = text.split_once('e').expect("LowerExp writes an exponent");
    let e: i32 = e.parse().expect("LowerExp writes an integer exponent");
    format!("{mantissa}e{}", e + exp)
        .parse()
        .expect("a decimal number")
}

/// A value and its dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Value {
    pub x: f64,
    pub dim: Dim,
}

/// Longest expression accepted, bytes.
pub const MAX_LEN: usize = 1000;
/// Deepest nesting of parentheses and signs.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    /// The number as written (digits, point, exponent).
    Number(&'a str),
    Name(&'a str),
    Op(char),
}

fn tokens(text: &str) -> Result<Vec<Token<'_>>, String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = text[i..].chars().next().expect("in bounds");
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if c.is_ascii_digit() {
            let start = i;
            let digits = |i: &mut usize| {
                while *i < b.len() && b[*i].is_ascii_digit() {
                    *i += 1;
                }
            };
            digits(&mut i);
            if i < b.len() && b[i] == b'.' {
                i += 1;
                digits(&mut i);
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    i = j;
                    digits(&mut i);
                }
            }
            out.push(Token::Number(&text[start..i]));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while let Some(c) = text[i..].chars().next() {
                if c.is_alphanumeric() || c == '_' {
                    i += c.len_utf8();
                } else {
                    break;
                }
            }
            out.push(Token::Name(&text[start..i]));
        } else if "+-*/()".contains(c) {
            out.push(Token::Op(c));
            i += 1;
        } else {
            return Err(format!(
                "unexpected character '{c}' (a quantity is numbers with units, parameter \
                 names, + - * / and parentheses)"
            ));
        }
    }
    Ok(out)
}

/// Evaluates `text`; `lookup` gives the value of a parameter name (or says why not).
pub fn eval(
    text: &str,
    lookup: &mut dyn FnMut(&str) -> Result<Value, String>,
) -> Result<Value, String> {
    if text.len() > MAX_LEN {
        return Err(format!(
            "{} characters: expected at most {MAX_LEN}",
            text.len()
        ));
    }
    let tokens = tokens(text)?;
    if tokens.is_empty() {
        return Err("empty: expected a number or a quantity with its unit".into());
    }
    let mut p = Parser {
        tokens: &tokens,
        at: 0,
        lookup,
    };
    let v = p.sum(0)?;
    if let Some(t) = p.tokens.get(p.at) {
        return Err(format!("unexpected {} after a complete quantity", show(t)));
    }
    if !v.x.is_finite() {
        return Err(format!("evaluates to {}: expected a finite number", v.x));
    }
    Ok(v)
}

fn show(t: &Token) -> String {
    match t {
        Token::Number(n) => format!("number {n}"),
        Token::Name(n) => format!("'{n}'"),
        Token::Op(c) => format!("'{c}'"),
    }
}

struct Parser<'t, 'a, 'l> {
    tokens: &'t [Token<'a>],
    at: usize,
    lookup: &'l mut dyn FnMut(&str) -> Result<Value, String>,
}

impl<'t, 'a> Parser<'t, 'a, '_> {
    fn peek(&self) -> Option<&'t Token<'a>> {
        self.tokens.get(self.at)
    }

    fn sum(&mut self, depth: usize) -> Result<Value, String> {
        let mut acc = self.product(depth)?;
        while let Some(&Token::Op(op @ ('+' | '-'))) = self.peek() {
            self.at += 1;
            let rhs = self.product(depth)?;
            if rhs.dim != acc.dim {
                return Err(format!(
                    "cannot {} {} and {}",
                    if op == '+' { "add" } else { "subtract" },
                    acc.dim.describe(),
                    rhs.dim.describe()
                ));
            }
            acc.x = if op == '+' {
                acc.x + rhs.x
            } else {
                acc.x - rhs.x
            };
        }
        Ok(acc)
    }

    fn product(&mut self, depth: usize) -> Result<Value, String> {
        let mut acc = self.unary(depth)?;
        while let Some(&Token::Op(op @ ('*' | '/'))) = self.peek() {
            self.at += 1;
            let rhs = self.unary(depth)?;
            let sign = if op == '*' { 1 } else { -1 };
            acc.dim = acc
                .dim
                .times(rhs.dim, sign)
                .ok_or("a unit raised to too high a power")?;
            acc.x = if op == '*' {
                acc.x * rhs.x
            } else {
                acc.x / rhs.x
            };
        }
        Ok(acc)
    }

    fn unary(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        match self.peek() {
            Some(Token::Op('-')) => {
                self.at += 1;
                let v = self.unary(depth + 1)?;
                Ok(Value { x: -v.x, ..v })
            }
            Some(Token::Op('+')) => {
                self.at += 1;
                self.unary(depth + 1)
            }
            _ => self.atom(depth),
        }
    }

    fn atom(&mut self, depth: usize) -> Result<Value, String> {
        let Some(t) = self.peek().cloned() else {
            return Err("ends where a number or a name was expected".into());
        };
        self.at += 1;
        match t {
            Token::Op('(') => {
                let v = self.sum(depth + 1)?;
                match self.peek() {
                    Some(Token::Op(')')) => {
                        self.at += 1;
                        Ok(v)
                    }
                    _ => Err("'(' without its ')'".into()),
                }
            }
            Token::Number(n) => {
                let (mantissa, exp) = match n.find(['e', 'E']) {
                    Some(i) => (
                        &n[..i],
                        n[i + 1..].parse::<i32>().map_err(|e| e.to_string())?,
                    ),
                    None => (n, 0),
                };
                let (shift, dim) = match self.peek() {
                    Some(&Token::Name(u)) => {
                        let Some(found) = unit(u) else {
                            return Err(format!(
                                "unknown unit '{u}' after {n} (expected one of {}, or an \
                                 operator)",
                                unit_names()
                            ));
                        };
                        self.at += 1;
                        found
                    }
                    _ => (0, Dim::NONE),
                };
                let x = format!("{mantissa}e{}", exp.saturating_add(shift))
                    .parse::<f64>()
                    .map_err(|e| format!("number {n}: {e}"))?;
                Ok(Value { x, dim })
            }
            Token::Name(name) => {
                if unit(name).is_some() {
                    return Err(format!(
                        "unit '{name}' without a number before it (e.g. \"1 {name}\")"
                    ));
                }
                (self.lookup)(name)
            }
            Token::Op(c) => Err(format!("unexpected '{c}'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Result<Value, String> {
        eval(text, &mut |name| match name {
            "J" => Ok(Value {
                x: 0.1e-3,
                dim: Dim::VOLTAGE,
            }),
            "C" => Ok(Value {
                x: 800.0,
                dim: Dim::NONE,
            }),
            _ => Err(format!("unknown parameter '{name}'")),
        })
    }

    #[test]
    fn numbers_with_units_are_the_literals() {
        assert_eq!(value("16.8 ms").unwrap().x, 16.8e-3);
        assert_eq!(value("16.8ms").unwrap().dim, Dim::TIME);
        assert_eq!(value("-60 mV").unwrap().x, -60e-3);
        assert_eq!(value("0 mV").unwrap().x.to_bits(), 0.0f64.to_bits());
        assert_eq!(value("20 kHz").unwrap().x, 20e3);
        assert_eq!(value("1.5e2 ms").unwrap().x, 1.5e-1);
        assert_eq!(value("6.5e-3 * 2").unwrap().x, 6.5e-3 * 2.0);
        assert_eq!(value("100 mV").unwrap().x, 100e-3);
        assert_eq!(shift(0.1, -3), 0.1e-3);
        assert_eq!(shift(16.8, -3), 16.8e-3);
        assert_eq!(shift(-5e-4, 3), -0.5);
    }

    #[test]
    fn formulas_keep_the_order_and_the_dimension() {
        let drive = value("2 * 20 mV / (J * C * 20 ms) * C").unwrap();
        assert_eq!(drive.x, 2.0 * 20e-3 / (0.1e-3 * 800.0 * 20e-3) * 800.0);
        assert_eq!(drive.dim, Dim::RATE);
        assert_eq!(value("-5 * J").unwrap().x, -(5.0 * 0.1e-3));
        assert_eq!(value("3 * J").unwrap().dim, Dim::VOLTAGE);
        assert_eq!(value("(1 + 2) * 3").unwrap().x, 9.0);
    }

    #[test]
    fn mistakes_say_what_was_expected() {
        for (text, expected) in [
            ("20 mS", "unknown unit 'mS'"),
            ("1 ms + 1 mV", "cannot add a time and a voltage"),
            ("ms", "without a number"),
            ("x * 2", "unknown parameter 'x'"),
            ("(1 + 2", "without its ')'"),
            ("1 2", "unexpected number 2"),
            ("2 *", "ends where"),
            ("", "empty"),
            ("1 / 0", "finite"),
            ("1 % 2", "unexpected character '%'"),
            ("1e400", "finite"),
        ] {
            let e = value(text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
        let deep = "(".repeat(100) + "1" + &")".repeat(100);
        assert!(value(&deep).unwrap_err().contains("nested"));
        let negs = "-".repeat(500) + "1";
        assert!(value(&negs).unwrap_err().contains("nested"));
        assert!(value(&"1+".repeat(600)).unwrap_err().contains("at most"));
    }
}
