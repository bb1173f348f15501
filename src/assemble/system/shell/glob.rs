//! Shell pattern matching (`case` arms, `[[`-less tests).

///
/// Iterative, in time proportional to the product of the lengths at worst: a pattern from a
/// script can be long, and must not decide a recursion depth.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    let (mut pi, mut si) = (0, 0);
    // After the last `*` seen: the pattern index past it and the text index it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, si));
                pi += 1;
            }
            Some('?') => {
                pi += 1;
                si += 1;
            }
            Some(c) if *c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                // Let the last `*` take one more character and try again from there.
                Some((after, tried)) => {
                    pi = after;
                    si = tried + 1;
                    star = Some((after, tried + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
