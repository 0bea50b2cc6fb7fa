//! The browser entry: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy: a page other than the dashboard hydrates once its code has
    // loaded (see `app::pages`).
    leptos::mount::hydrate_lazy(app::App);
}
