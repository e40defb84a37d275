//! A small HTML builder: text is always escaped, markup is written by this crate only.

use apoyo_domain::Date;

use crate::api::supports::LOCAL_OFFSET_HOURS;

#[derive(Debug, Default)]
pub(crate) struct Html(String);

impl Html {
    pub(crate) fn new() -> Self {
        Self(String::with_capacity(4096))
    }

    /// Markup written by the console itself (never user data).
    pub(crate) fn raw(mut self, markup: &str) -> Self {
        self.0.push_str(markup);
        self
    }

    /// Text, escaped.
    pub(crate) fn text(mut self, text: &str) -> Self {
        escape_into(&mut self.0, text);
        self
    }

    pub(crate) fn push_raw(&mut self, markup: &str) {
        self.0.push_str(markup);
    }

    pub(crate) fn push_text(&mut self, text: &str) {
        escape_into(&mut self.0, text);
    }

    pub(crate) fn append(mut self, other: Html) -> Self {
        self.0.push_str(&other.0);
        self
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// What the layout shows of the signed-in user.
pub(crate) struct Chrome<'a> {
    pub(crate) user_name: &'a str,
    pub(crate) role_label: &'a str,
    pub(crate) csrf_token: &'a str,
    pub(crate) nav: Vec<(String, &'static str)>,
    /// The href of the current section, marked `aria-current`.
    pub(crate) current: &'a str,
}

/// The whole page: skip link, header with navigation and logout, `main`.
pub(crate) fn layout(title: &str, chrome: Option<Chrome<'_>>, body: Html) -> Html {
    let mut page = Html::new()
        .raw("<!doctype html><html lang=\"es-MX\"><head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .raw("<title>")
        .text(title)
        .raw(" · apoyo</title><link rel=\"stylesheet\" href=\"/console/console.css\">")
        // The capture app's icon: without one, browsers ask for /favicon.ico (a 404) on every page.
        .raw("<link rel=\"icon\" href=\"/app/icon.svg\" type=\"image/svg+xml\">");
    if let Some(chrome) = &chrome {
        page = page
            .raw("<meta name=\"csrf-token\" content=\"")
            .text(chrome.csrf_token)
            .raw("\">");
    }
    page = page
        .raw("<script type=\"module\" src=\"/console/console.js\"></script></head><body>")
        .raw("<a class=\"skip\" href=\"#contenido\">Saltar al contenido</a>")
        .raw("<header class=\"top\"><span class=\"brand\">apoyo</span>");
    if let Some(chrome) = chrome {
        page = page.raw("<nav aria-label=\"Secciones\"><ul>");
        for (href, label) in &chrome.nav {
            let current = if href == chrome.current {
                " aria-current=\"page\""
            } else {
                ""
            };
            page = page
                .raw("<li><a href=\"")
                .text(href)
                .raw("\"")
                .raw(current)
                .raw(">")
                .text(label)
                .raw("</a></li>");
        }
        page = page
            .raw("</ul></nav><div class=\"who\"><span>")
            .text(chrome.user_name)
            .raw(" · ")
            .text(chrome.role_label)
            .raw("</span> <button type=\"button\" id=\"logout\" class=\"link\">Cerrar sesión</button></div>");
    }
    page.raw("</header><main id=\"contenido\" tabindex=\"-1\">")
        .append(body)
        .raw("</main></body></html>")
}

/// dd/mm/aaaa.
pub(crate) fn date(date: Date) -> String {
    let iso = date.to_string();
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
        (Some(y), Some(m), Some(d)) => format!("{d}/{m}/{y}"),
        _ => iso,
    }
}

/// An RFC 3339 UTC instant as dd/mm/aaaa hh:mm in the OPL's time zone.
pub(crate) fn date_time(rfc3339: &str) -> String {
    match time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339) {
        Ok(at) => {
            let local = at.to_offset(
                time::UtcOffset::from_hms(i8::try_from(LOCAL_OFFSET_HOURS).unwrap_or(-6), 0, 0)
                    .unwrap_or(time::UtcOffset::UTC),
            );
            format!(
                "{:02}/{:02}/{:04} {:02}:{:02}",
                local.day(),
                u8::from(local.month()),
                local.year(),
                local.hour(),
                local.minute()
            )
        }
        Err(_) => rfc3339.to_owned(),
    }
}

/// 1,234,567 (es-MX groups thousands with commas).
pub(crate) fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(-1234567), "-1,234,567");
        assert_eq!(date(Date::parse_iso("2025-03-07").unwrap()), "07/03/2025");
        assert_eq!(date_time("2025-03-07T05:30:00Z"), "06/03/2025 23:30");
    }
}
