//! Writing SVG: escaping, compact coordinates, the document around a chart, and marks with
//! their tooltips and links.

use std::fmt;

use crate::locale::Locale;

/// Writes to a `String`, which cannot fail.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        use ::std::fmt::Write as _;
        let _ = $dst.write_fmt(format_args!($($arg)*));
    }};
}
pub(crate) use w;

/// Stands for the chart's id until the whole document is written and hashed. Escaped text
/// never contains it: [`esc`] drops control characters.
pub(crate) const ID: &str = "\u{1}";

/// Body text, the neutral colour of labels and tooltips' shapes.
pub(crate) const INK: &str = "#333";
/// Axis labels and secondary text (4.5:1 contrast on white or better).
pub(crate) const MUTED: &str = "#666";
/// Gridlines.
pub(crate) const GRID: &str = "#e5e5e5";
/// The zero line and other baselines.
pub(crate) const BASELINE: &str = "#8c8c8c";
/// Width of every chart but maps, in viewBox units: about the width of half a page, where
/// the font sizes below read as 12 and 11 pixels.
pub(crate) const WIDTH: f64 = 600.0;
/// Font size of labels, in viewBox units.
pub(crate) const FONT: f64 = 13.0;
/// Font size of axis ticks and legends.
pub(crate) const SMALL: f64 = 11.5;

/// Text escaped for both element content and attribute values: `& < > " '` become
/// references, line breaks and tabs become spaces, and characters XML forbids are dropped.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A link target the chart may carry: relative, or http(s) or mailto. Anything with another
/// scheme (`javascript:`, `data:`) is refused, as browsers would read it after removing tabs
/// and line breaks.
pub(crate) fn safe_href(href: &str) -> Option<String> {
    let cleaned: String = href.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let cleaned = cleaned.trim_matches(|c: char| c <= ' ');
    if cleaned.is_empty() {
        return None;
    }
    if let Some(end) = cleaned.find([':', '/', '?', '#'])
        && cleaned[end..].starts_with(':')
    {
        let scheme = cleaned[..end].to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https" | "mailto") {
            return None;
        }
    }
    Some(cleaned.to_owned())
}

/// A coordinate rounded to one decimal, without a trailing ".0" or a "-0".
#[derive(Clone, Copy)]
pub(crate) struct Px(pub f64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 * 10.0).round();
        if !tenths.is_finite() {
            return f.write_str("0");
        }
        let tenths = tenths as i64;
        let (sign, abs) = (if tenths < 0 { "-" } else { "" }, tenths.unsigned_abs());
        if abs % 10 == 0 { write!(f, "{sign}{}", abs / 10) } else { write!(f, "{sign}{}.{}", abs / 10, abs % 10) }
    }
}

/// About how wide `s` is at font size `size` in a common sans-serif face. The server cannot
/// measure text; this errs on the wide side so labels are cut rather than overlap.
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    let em: f64 = s
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'I' => 0.3,
            'f' | 't' | 'r' | '(' | ')' | '[' | ']' | ' ' | '-' => 0.4,
            'm' | 'w' | 'M' | 'W' | '%' | '—' => 0.92,
            '0'..='9' => 0.62,
            c if c.is_uppercase() => 0.72,
            c if u32::from(c) >= 0x2e80 => 1.0,
            _ => 0.6,
        })
        .sum();
    em * size
}

/// `s` cut with "…" to fit `max` wide at font size `size`.
pub(crate) fn fit(s: &str, max: f64, size: f64) -> String {
    if text_width(s, size) <= max {
        return s.to_owned();
    }
    let room = max - text_width("…", size);
    let mut out = String::new();
    let mut width = 0.0;
    for c in s.chars() {
        let w = text_width(c.encode_utf8(&mut [0; 4]), size);
        if width + w > room {
            break;
        }
        width += w;
        out.push(c);
    }
    let mut out = out.trim_end().to_owned();
    out.push('…');
    out
}

/// A finite number, or nothing.
pub(crate) fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

/// 64-bit FNV-1a: a stable hash, so the same chart always gets the same id.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The outer `<svg>` of a chart, with its accessible name and summary.
pub(crate) struct Frame<'a> {
    /// Names the chart kind in its class: `chart chart-{kind}`.
    pub kind: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub width: f64,
    pub height: f64,
}

impl Frame<'_> {
    /// The document: `defs` and `body` may use [`ID`] where the chart's id goes (`{ID}-t`,
    /// `url(#{ID}-arrow)`). The id is `c` and twelve hex digits of a hash of the whole chart,
    /// so identical input gives identical bytes and different charts on a page do not clash.
    ///
    /// A chart with links is a `group`, not an `img`: an `img` hides its children from
    /// assistive technology, links included.
    pub fn finish(&self, defs: &str, body: &str) -> String {
        let interactive = body.contains("<a ");
        let mut out = String::with_capacity(body.len() + defs.len() + 400);
        w!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" class="chart chart-{}" role="{}" aria-labelledby="{ID}-t {ID}-d" font-family="inherit" font-size="{FONT}"><title id="{ID}-t">{}</title><desc id="{ID}-d">{}</desc>"#,
            Px(self.width),
            Px(self.height),
            self.kind,
            if interactive { "group" } else { "img" },
            esc(self.title),
            esc(self.desc),
        );
        if !defs.is_empty() {
            w!(out, "<defs>{defs}</defs>");
        }
        out.push_str(body);
        out.push_str("</svg>");
        let id = format!("c{:012x}", fnv1a(out.as_bytes()) >> 16);
        out.replace(ID, &id)
    }
}

/// The small chart drawn when there is nothing to show.
pub(crate) fn no_data(title: &str, locale: &Locale) -> String {
    let (width, height) = (WIDTH, 64.0);
    let mut body = String::new();
    w!(
        body,
        r##"<rect class="chart-empty-box" width="{}" height="{}" rx="4" fill="#f5f5f5"/><text x="{}" y="{}" text-anchor="middle" fill="{MUTED}">{}</text>"##,
        Px(width),
        Px(height),
        Px(width / 2.0),
        Px(height / 2.0 + 4.0),
        esc(&locale.text.no_data),
    );
    Frame { kind: "empty", title, desc: &locale.text.no_data, width, height }.finish("", &body)
}

/// Opens a mark: a link (`<a class="chart-link">`) when it has a safe `href`, otherwise a
/// `<g>`, with its tooltip as first child. Returns what [`close`] needs.
pub(crate) fn open(out: &mut String, class: &str, title: &str, href: Option<&str>) -> &'static str {
    if let Some(href) = href.and_then(safe_href) {
        w!(out, r#"<a href="{}" class="chart-link {class}"><title>{}</title>"#, esc(&href), esc(title));
        "</a>"
    } else {
        w!(out, r#"<g class="{class}"><title>{}</title>"#, esc(title));
        "</g>"
    }
}

/// Closes what [`open`] opened.
pub(crate) fn close(out: &mut String, end: &'static str) {
    out.push_str(end);
}

/// One shape that is a mark by itself: `shape` is an element's opening without its `>`
/// (`<circle cx="1" cy="2" r="3"`), `tag` its name. Without a link the tooltip goes inside
/// the shape; with one, inside the link around it.
pub(crate) fn shape(out: &mut String, shape: &str, tag: &str, title: &str, href: Option<&str>) {
    if let Some(href) = href.and_then(safe_href) {
        w!(out, r#"<a href="{}" class="chart-link"><title>{}</title>{shape}/></a>"#, esc(&href), esc(title));
    } else {
        w!(out, "{shape}><title>{}</title></{tag}>", esc(title));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Checks that `svg` is well-formed XML as far as charts go: every tag closed in order,
    /// attributes quoted, no bare `<` or `&`, only the five named references or numeric
    /// ones. Returns the element names in document order.
    pub(crate) fn well_formed(svg: &str) -> Vec<String> {
        fn reference(s: &str) -> usize {
            let end = s.find(';').unwrap_or_else(|| panic!("unterminated reference in {s:.40}"));
            let name = &s[1..end];
            let numeric =
                name.strip_prefix('#').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            assert!(numeric || matches!(name, "amp" | "lt" | "gt" | "quot" | "apos"), "bad reference &{name};");
            end + 1
        }
        let mut stack: Vec<String> = Vec::new();
        let mut names = Vec::new();
        let mut rest = svg;
        assert!(rest.starts_with("<svg"), "not an svg: {svg:.40}");
        while !rest.is_empty() {
            if let Some(tag) = rest.strip_prefix('<') {
                let end = tag.find('>').expect("unclosed tag");
                let inner = &tag[..end];
                if let Some(name) = inner.strip_prefix('/') {
                    assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
                } else {
                    let self_closing = inner.ends_with('/');
                    let inner = inner.trim_end_matches('/');
                    let name_end = inner.find(' ').unwrap_or(inner.len());
                    let name = &inner[..name_end];
                    assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric()), "bad name {name}");
                    let mut attrs = inner[name_end..].trim_start();
                    let mut seen = Vec::new();
                    while !attrs.is_empty() {
                        let eq = attrs.find("=\"").unwrap_or_else(|| panic!("unquoted attribute in <{inner}>"));
                        let key = &attrs[..eq];
                        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':'), "key {key}");
                        assert!(!seen.contains(&key), "duplicate attribute {key} in <{name}>");
                        seen.push(key);
                        let value_end = attrs[eq + 2..].find('"').expect("unterminated attribute");
                        let value = &attrs[eq + 2..eq + 2 + value_end];
                        assert!(!value.contains('<'), "< in attribute {key}");
                        let mut v = value;
                        while let Some(i) = v.find('&') {
                            v = &v[i + reference(&v[i..])..];
                        }
                        attrs = attrs[eq + 3 + value_end..].trim_start();
                    }
                    names.push(name.to_owned());
                    if !self_closing {
                        stack.push(name.to_owned());
                    }
                }
                rest = &tag[end + 1..];
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let mut text = &rest[..end];
                assert!(!text.contains('>'), "bare > in text {text}");
                while let Some(i) = text.find('&') {
                    text = &text[i + reference(&text[i..])..];
                }
                assert!(!stack.is_empty(), "text outside the root");
                rest = &rest[end..];
            }
            if stack.is_empty() {
                assert!(rest.is_empty(), "content after the root element");
            }
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
        names
    }

    /// Every mark (an element with one of these classes, or a link) has a `<title>` as its
    /// first child, or is the shape right after a link's title. Returns how many there were.
    pub(crate) fn marks_have_titles(svg: &str, classes: &[&str]) -> usize {
        let mut count = 0;
        let mut at = 0;
        while let Some(i) = svg[at..].find('<') {
            let start = at + i;
            let end = start + svg[start..].find('>').unwrap();
            let tag = &svg[start..=end];
            let class = tag.split_once("class=\"").map_or("", |(_, rest)| rest.split('"').next().unwrap());
            if tag.starts_with("<a ") || class.split(' ').any(|c| classes.contains(&c)) {
                let titled = if tag.ends_with("/>") {
                    svg[..start].ends_with("</title>")
                } else {
                    svg[end + 1..].starts_with("<title>")
                };
                assert!(titled, "mark without a title: {tag}");
                count += 1;
            }
            at = end + 1;
        }
        count
    }

    #[test]
    fn escapes_everything() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(esc("a\u{0}b\u{1}c\nd\u{ffff}"), "abc d");
    }

    #[test]
    fn hrefs() {
        assert_eq!(safe_href("?nationality=VEN").as_deref(), Some("?nationality=VEN"));
        assert_eq!(safe_href("/panel/1?a=1&b=2").as_deref(), Some("/panel/1?a=1&b=2"));
        assert_eq!(safe_href("https://example.org/x").as_deref(), Some("https://example.org/x"));
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href(" java\tscript:alert(1)"), None);
        assert_eq!(safe_href("JAVASCRIPT:alert(1)"), None);
        assert_eq!(safe_href("data:text/html,x"), None);
        assert_eq!(safe_href("  "), None);
        assert_eq!(safe_href("a/b:c").as_deref(), Some("a/b:c"));
    }

    #[test]
    fn coordinates() {
        assert_eq!(Px(1.0).to_string(), "1");
        assert_eq!(Px(1.26).to_string(), "1.3");
        assert_eq!(Px(-0.04).to_string(), "0");
        assert_eq!(Px(-2.55).to_string(), "-2.6");
        assert_eq!(Px(-0.5).to_string(), "-0.5");
        assert_eq!(Px(f64::NAN).to_string(), "0");
    }

    #[test]
    fn fitting_text() {
        assert_eq!(fit("Colombia", 200.0, 12.0), "Colombia");
        let cut = fit("República Bolivariana de Venezuela", 80.0, 12.0);
        assert!(cut.ends_with('…') && text_width(&cut, 12.0) <= 80.0, "{cut}");
    }

    #[test]
    fn the_checker_catches_bad_xml() {
        for bad in ["<svg><g></svg>", "<svg a=b></svg>", "<svg>a < b</svg>", "<svg>&nbsp;</svg>", "<svg x=\"<\"></svg>"]
        {
            assert!(std::panic::catch_unwind(|| well_formed(bad)).is_err(), "{bad}");
        }
        well_formed(r#"<svg a="&amp;&#39;"><g><title>x &lt; y</title></g><path d="M0 0"/></svg>"#);
    }
}
