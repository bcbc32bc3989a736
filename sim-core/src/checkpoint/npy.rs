//! NumPy `.npy` files (format 1.0) holding one 1-D little-endian array, so that
//! `numpy.load` reads a checkpoint's arrays without snn-limits.
//!
//! Written and read here rather than through `npyz`: the header is one line of text,
//! the checkpoint must checksum the very bytes it writes and reads (a pass over the
//! data that `npyz` would not share), and the reader must check every size in a
//! header against the file's real length before allocating anything — easier to
//! guarantee in fifty lines of our own than through a general reader.

use std::io::{self, Read, Write};

use crc32fast::Hasher;

/// A reader or writer that checksums every byte passing through it: the checkpoint's
/// CRC-32 covers the whole file, header included, computed on the same pass that
/// writes or reads it.
pub struct Hashed<T> {
    pub inner: T,
    pub crc: Hasher,
}

impl<T> Hashed<T> {
    pub fn new(inner: T) -> Self {
        Hashed {
            inner,
            crc: Hasher::new(),
        }
    }
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

impl<W: Write> Write for Hashed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy aligns the data to 64 bytes (the header is padded to a multiple of it).
const ALIGN: usize = 64;
/// The longest header read: NumPy itself refuses more than 10 000 bytes by default, so
/// a longer one is hostile or damaged, and nothing bigger is ever allocated for it.
const MAX_HEADER: usize = 1 << 16;
/// Bytes converted and checksummed per write or read call: large enough that the
/// system calls cost nothing, small enough to stay in cache.
const CHUNK: usize = 1 << 20;

/// The header (magic, version 1.0, length, dictionary) of a 1-D array of `len`
/// elements of NumPy type `descr`.
pub fn header(descr: &str, len: u64) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({len},), }}");
    // Magic, version, u16 length, the dictionary and its closing newline.
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    let pad = (ALIGN - unpadded % ALIGN) % ALIGN;
    let text_len = u16::try_from(dict.len() + pad + 1).expect("a 1-D header is short");
    let mut out = Vec::with_capacity(unpadded + pad);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&text_len.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(out.len() + pad, b' ');
    out.push(b'\n');
    out
}

/// What a header says.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub descr: String,
    pub shape: Vec<u64>,
    /// Bytes before the data (prefix and text).
    pub len: u64,
}

/// Reads a header from the start of a file of `file_len` bytes; the error says what
/// is wrong with it. Versions 2.0 and 3.0 (a 4-byte length) are read too, as NumPy
/// writes them for long headers.
pub fn read_header(r: &mut impl Read, file_len: u64) -> Result<Header, String> {
    let short = |need: u64| {
        format!("the file ends inside the header ({file_len} bytes, the header needs {need})")
    };
    let mut prefix = [0u8; 8];
    if file_len < 10 {
        return Err(short(10));
    }
    r.read_exact(&mut prefix).map_err(|e| e.to_string())?;
    if &prefix[..6] != MAGIC {
        return Err("it does not start with the NumPy magic \\x93NUMPY".into());
    }
    let (size_len, text_len) = match (prefix[6], prefix[7]) {
        (1, 0) => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).map_err(|e| e.to_string())?;
            (2, u16::from_le_bytes(b) as usize)
        }
        (2, 0) | (3, 0) => {
            if file_len < 12 {
                return Err(short(12));
            }
            let mut b = [0u8; 4];
            r.read_exact(&mut b).map_err(|e| e.to_string())?;
            (4, u32::from_le_bytes(b) as usize)
        }
        (major, minor) => return Err(format!("unsupported .npy version {major}.{minor}")),
    };
    if text_len > MAX_HEADER {
        return Err(format!(
            "its header claims {text_len} bytes (at most {MAX_HEADER} accepted)"
        ));
    }
    let len = (8 + size_len + text_len) as u64;
    if len > file_len {
        return Err(short(len));
    }
    let mut text = vec![0u8; text_len];
    r.read_exact(&mut text).map_err(|e| e.to_string())?;
    let text = std::str::from_utf8(&text).map_err(|_| "its header is not text".to_string())?;
    let (descr, shape) = parse_dict(text).map_err(|e| format!("header `{}`: {e}", text.trim()))?;
    Ok(Header { descr, shape, len })
}

/// Parses the header's Python dictionary literal: `descr` (a string), `fortran_order`
/// (a bool: irrelevant for 1-D data, checked but not returned) and `shape` (a tuple of
/// integers), as NumPy writes it.
fn parse_dict(text: &str) -> Result<(String, Vec<u64>), String> {
    let mut p = Cursor {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{')?;
    while !p.eat(b'}') {
        let key = p.string()?;
        p.expect(b':')?;
        match key.as_str() {
            "descr" if descr.is_none() => descr = Some(p.string()?),
            "fortran_order" if fortran.is_none() => fortran = Some(p.boolean()?),
            "shape" if shape.is_none() => shape = Some(p.tuple()?),
            other => return Err(format!("unexpected or repeated key '{other}'")),
        }
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err("text after the dictionary".into());
    }
    match (descr, fortran, shape) {
        (Some(d), Some(_), Some(s)) => Ok((d, s)),
        _ => Err("it lacks one of 'descr', 'fortran_order', 'shape'".into()),
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    /// Skips white space, then takes `c` if it comes next.
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.i))
        }
    }

    /// A quoted string without escapes (NumPy's keys and type strings have none).
    fn string(&mut self) -> Result<String, String> {
        self.ws();
        let quote = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("expected a quoted string at byte {}", self.i)),
        };
        let start = self.i + 1;
        let end = self.s[start..]
            .iter()
            .position(|&c| c == quote || c == b'\\')
            .map(|n| start + n)
            .filter(|&e| self.s[e] == quote)
            .ok_or("an unterminated (or escaped) string")?;
        self.i = end + 1;
        Ok(String::from_utf8_lossy(&self.s[start..end]).into_owned())
    }

    fn boolean(&mut self) -> Result<bool, String> {
        self.ws();
        for (word, value) in [(&b"True"[..], true), (&b"False"[..], false)] {
            if self.s[self.i..].starts_with(word) {
                self.i += word.len();
                return Ok(value);
            }
        }
        Err(format!("expected True or False at byte {}", self.i))
    }

    fn tuple(&mut self) -> Result<Vec<u64>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        while !self.eat(b')') {
            self.ws();
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            let digits = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII digits");
            dims.push(
                digits
                    .parse::<u64>()
                    .map_err(|_| format!("expected a dimension at byte {start}"))?,
            );
            if !self.eat(b',') {
                self.expect(b')')?;
                break;
            }
        }
        Ok(dims)
    }
}

/// An element type stored in little-endian order (bit for bit: a float's NaN payload
/// and the sign of zero survive).
pub trait Elem: Copy {
    const SIZE: usize;
    fn put(self, out: &mut [u8]);
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline]
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("one element's bytes"))
            }
        }
    )*};
}
elem!(f32, f64, u32, u64);

/// Writes `xs` as little-endian bytes, a chunk at a time (one bulk conversion and
/// one `write` per chunk: the chunk buffer is the write buffer).
pub fn write_data<T: Elem>(w: &mut impl Write, xs: &[T]) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK.min(xs.len() * T::SIZE)];
    for chunk in xs.chunks(CHUNK / T::SIZE) {
        let bytes = &mut buf[..chunk.len() * T::SIZE];
        for (&x, out) in chunk.iter().zip(bytes.chunks_exact_mut(T::SIZE)) {
            x.put(out);
        }
        w.write_all(bytes)?;
    }
    Ok(())
}

/// Reads `n` elements, a chunk at a time. The caller has checked that the file holds
/// exactly `n` elements, so the allocation is bounded by what is on disk.
pub fn read_data<T: Elem>(r: &mut impl Read, n: usize) -> io::Result<Vec<T>> {
    let mut xs = Vec::with_capacity(n);
    let mut buf = vec![0u8; CHUNK.min(n * T::SIZE)];
    let mut left = n;
    while left > 0 {
        let take = left.min(CHUNK / T::SIZE);
        let bytes = &mut buf[..take * T::SIZE];
        r.read_exact(bytes)?;
        xs.extend(bytes.chunks_exact(T::SIZE).map(T::get));
        left -= take;
    }
    Ok(xs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_numpy_1_0_byte_for_byte() {
        // Computed by hand: the dictionary is 57 characters, 10 + 57 + 1 newline = 68,
        // so 60 spaces pad the whole to 128 bytes and the length field says 118.
        // (NumPy 2.4's `np.save` writes exactly these bytes for a float32 array of 3.)
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
        assert_eq!(dict.len(), 57);
        let mut expected = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        expected.extend_from_slice(dict.as_bytes());
        expected.extend_from_slice(&[b' '; 60]);
        expected.push(b'\n');
        let got = header("<f4", 3);
        assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(&got));
        assert_eq!(got.len(), 128);
    }

    #[test]
    fn headers_are_aligned_and_read_back() {
        for (descr, n) in [("<f8", 0), ("<u4", 1), ("<u8", u64::MAX), ("<f4", 12345)] {
            let h = header(descr, n);
            assert_eq!(h.len() % ALIGN, 0);
            let back = read_header(&mut &h[..], h.len() as u64).unwrap();
            assert_eq!(
                back,
                Header {
                    descr: descr.into(),
                    shape: vec![n],
                    len: h.len() as u64
                }
            );
        }
    }

    #[test]
    fn numpy_spellings_are_read() {
        // What NumPy 2 writes (growth padding, keys in order), a scalar, a 2-D shape.
        for (dict, shape) in [
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }",
                vec![7],
            ),
            (
                "{\"descr\":\"<u8\",\"fortran_order\":True,\"shape\":()}",
                vec![],
            ),
            (
                "{'shape': (2, 3), 'descr': '<u4', 'fortran_order': False}",
                vec![2, 3],
            ),
        ] {
            let mut h = b"\x93NUMPY\x01\x00".to_vec();
            let text = format!("{dict}      \n");
            h.extend_from_slice(&(text.len() as u16).to_le_bytes());
            h.extend_from_slice(text.as_bytes());
            let back = read_header(&mut &h[..], h.len() as u64).unwrap();
            assert_eq!(back.shape, shape);
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        let good = header("<f4", 3);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"\x93NUMP".to_vec(), "ends inside the header"),
            (b"PK\x03\x04 not numpy at all".to_vec(), "magic"),
            (
                [&b"\x93NUMPY\x09\x00"[..], &good[8..]].concat(),
                "version 9.0",
            ),
            (good[..60].to_vec(), "ends inside the header"),
            (
                [&b"\x93NUMPY\x01\x00\xff\xff"[..], &[b' '; 200]].concat(),
                "ends inside",
            ),
            (
                [&b"\x93NUMPY\x02\x00\xff\xff\xff\x7f"[..], &[b' '; 20]].concat(),
                "at most",
            ),
        ];
        for (bytes, why) in cases {
            let e = read_header(&mut &bytes[..], bytes.len() as u64).unwrap_err();
            assert!(e.contains(why), "{e} (expected {why})");
        }
        for dict in [
            "{'descr': '<f4', 'shape': (3,), }",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x",
            "{'descr': '<f4', 'fortran_order': Nope, 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
            "{'descr': '<f4\\', 'fortran_order': False, 'shape': (3,)}",
        ] {
            assert!(parse_dict(dict).is_err(), "{dict}");
        }
    }

    #[test]
    fn data_round_trips_bit_for_bit_across_chunks() {
        let xs: Vec<f64> = (0..(CHUNK / 8 * 2 + 3) as u64)
            .map(|i| f64::from_bits(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            .collect();
        let mut w = Hashed::new(Vec::new());
        write_data(&mut w, &xs).unwrap();
        let bytes = w.inner;
        assert_eq!(bytes.len(), xs.len() * 8);
        let mut r = Hashed::new(&bytes[..]);
        let back: Vec<f64> = read_data(&mut r, xs.len()).unwrap();
        assert!(back
            .iter()
            .zip(&xs)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(w.crc.finalize(), r.crc.clone().finalize());
        assert_eq!(crc32fast::hash(&bytes), r.crc.clone().finalize());
    }
}
