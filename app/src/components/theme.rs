//! Light and dark themes: the system's unless the person picks one, which
//! is remembered in a cookie (`theme`) so the server draws every page in it
//! from the first paint. The stylesheet's colours follow the `data-theme`
//! attribute of `<html>` (and the system setting without one).

use leptos::prelude::*;
use leptos_meta::Html;

/// The cookie that remembers a theme picked.
const COOKIE: &str = "theme";

/// A theme picked rather than the system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// The theme a `Cookie` header's `theme` names, if any.
pub fn from_cookies(header: &str) -> Option<Theme> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim() == COOKIE)
        .and_then(|(_, value)| Theme::parse(value))
}

/// The theme the page is drawn in: the request's cookie on the server, the
/// attribute the server wrote in the browser.
fn picked() -> Option<Theme> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let cookies = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
        from_cookies(cookies)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let html = document().document_element()?;
        Theme::parse(&html.get_attribute("data-theme")?)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        None
    }
}

/// Remembers `theme` (or forgets the pick) for a year.
fn remember(theme: Option<Theme>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let cookie = match theme {
            Some(theme) => format!(
                "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                theme.name()
            ),
            None => format!("{COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"),
        };
        if let Ok(document) = document().dyn_into::<web_sys::HtmlDocument>() {
            let _ = document.set_cookie(&cookie);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = theme;
}

/// The theme picker of the top bar.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let theme = RwSignal::new(picked());
    let choose = move |value: String| {
        let chosen = Theme::parse(&value);
        theme.set(chosen);
        remember(chosen);
    };
    let option = move |value: &'static str, label: &'static str| {
        let selected = move || theme.get().map_or("system", Theme::name) == value;
        view! { <option value=value selected=selected>{label}</option> }
    };
    view! {
        <Html {..} data-theme=move || theme.get().map(Theme::name) />
        <label class="theme-switch">
            <span class="visually-hidden">"Theme"</span>
            <select on:change=move |event| choose(event_target_value(&event))>
                {option("system", "System theme")}
                {option("light", "Light theme")}
                {option("dark", "Dark theme")}
            </select>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_theme_is_read_from_its_cookie_only() {
        assert_eq!(from_cookies("a=1; theme=dark; b=2"), Some(Theme::Dark));
        assert_eq!(from_cookies("theme=light"), Some(Theme::Light));
        assert_eq!(from_cookies("theme=purple"), None);
        assert_eq!(from_cookies("mytheme=dark"), None);
        assert_eq!(from_cookies(""), None);
    }
}
