//! Sprig's random functions: `randAlphaNum randAlpha randNumeric randAscii randInt shuffle
//! uuidv4`.
//!
//! Non-deterministic by design, as in Helm: without [`FuncOptions::random_seed`] every
//! execution draws from a fresh OS-seeded generator, so rendered output differs run to run.
//! With a seed, each top-level execution restarts the same splitmix64 sequence, making output
//! reproducible (but never equal to what Helm would print).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use super::{iarg, FuncOptions, I};
use crate::{FuncContext, FuncMap, Function, Value};

#[derive(Default)]
struct Rng(Option<u64>);

fn next(ctx: &mut FuncContext<'_>, seed: Option<u64>) -> u64 {
    let st = ctx.state::<Rng>();
    let s = st.0.get_or_insert_with(|| {
        seed.unwrap_or_else(|| {
            let mut h = RandomState::new().build_hasher();
            h.write_u64(0x9E37_79B9_7F4A_7C15);
            h.finish()
        })
    });
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn chars_fn(alphabet: &'static [u8], seed: Option<u64>) -> Function {
    Function::new(&[I], None, move |ctx, a| {
        let n = iarg(a, 0);
        if n < 0 {
            return Err(format!(
                "Requested random string length {n} is less than 0."
            ));
        }
        if n as u128 > crate::MAX_STRING_BYTES as u128 {
            return Err(crate::string_budget_error("random string", n as u128));
        }
        let mut s = String::with_capacity(n as usize);
        for _ in 0..n {
            let i = (next(ctx, seed) % alphabet.len() as u64) as usize;
            s.push(char::from(alphabet.get(i).copied().unwrap_or(b'a')));
        }
        Ok(s.into())
    })
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const DIGITS: &[u8] = b"0123456789";
const ASCII: &[u8] = b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

pub(super) fn register(m: &mut FuncMap, opts: &FuncOptions) {
    let seed = opts.random_seed;
    m.insert("randAlphaNum", chars_fn(ALNUM, seed));
    m.insert("randAlpha", chars_fn(LETTERS, seed));
    m.insert("randNumeric", chars_fn(DIGITS, seed));
    m.insert("randAscii", chars_fn(ASCII, seed));
    m.insert(
        "randInt",
        Function::new(&[I, I], None, move |ctx, a| {
            let (lo, hi) = (iarg(a, 0), iarg(a, 1));
            if hi <= lo {
                return Err("invalid argument to Intn".into());
            }
            let span = (hi - lo) as u64;
            Ok(Value::Int(lo + (next(ctx, seed) % span) as i64))
        }),
    );
    m.insert(
        "shuffle",
        Function::new(&[super::S], None, move |ctx, a| {
            let mut chars: Vec<char> = super::sarg(a, 0).chars().collect();
            for i in (1..chars.len()).rev() {
                let j = (next(ctx, seed) % (i as u64 + 1)) as usize;
                chars.swap(i, j);
            }
            Ok(chars.into_iter().collect::<String>().into())
        }),
    );
    m.insert(
        "uuidv4",
        Function::new(&[], None, move |ctx, _| {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&next(ctx, seed).to_le_bytes());
            b[8..].copy_from_slice(&next(ctx, seed).to_le_bytes());
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Ok(format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            )
            .into())
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::super::{sprig_funcs_with, FuncOptions};
    use crate::{Templates, Value};

    fn run(seed: Option<u64>, src: &str) -> String {
        let opts = FuncOptions {
            random_seed: seed,
            ..FuncOptions::default()
        };
        let mut set = Templates::new("gotpl", sprig_funcs_with(&opts));
        set.parse("t", src).unwrap();
        set.execute("t", &Value::Nil).unwrap()
    }

    #[test]
    fn shapes_and_alphabets() {
        let s = run(
            None,
            "{{ randAlphaNum 16 }}|{{ randNumeric 5 }}|{{ randAlpha 4 }}|{{ uuidv4 }}",
        );
        let parts: Vec<&str> = s.split('|').collect();
        assert_eq!(parts[0].len(), 16);
        assert!(parts[0].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(parts[1].len() == 5 && parts[1].bytes().all(|b| b.is_ascii_digit()));
        assert!(parts[2].len() == 4 && parts[2].bytes().all(|b| b.is_ascii_alphabetic()));
        let u = parts[3];
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert!(matches!(u.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        let n: i64 = run(None, "{{ randInt 3 5 }}").parse().unwrap();
        assert!((3..5).contains(&n));
        let mut sh: Vec<char> = run(None, "{{ shuffle \"hello\" }}").chars().collect();
        sh.sort_unstable();
        assert_eq!(sh.into_iter().collect::<String>(), "ehllo");
    }

    #[test]
    fn seeded_runs_repeat_and_calls_differ() {
        let src = "{{ randAlphaNum 12 }} {{ randAlphaNum 12 }}";
        let a = run(Some(7), src);
        assert_eq!(a, run(Some(7), src));
        let (x, y) = a.split_once(' ').unwrap();
        assert_ne!(x, y);
        assert_ne!(run(None, src), run(None, src));
    }
}
