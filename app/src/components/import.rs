//! The Import page: a person chooses or drops their Spotify export (the
//! `.zip`, JSON files of it, or a `spotify_history.csv`); each file is
//! uploaded with a bar of the bytes sent, then the server's progress of its
//! import is followed live (records read, sent, duplicates, not music,
//! rejected, per history file) until the same table as the `producer`'s
//! summary; the imports made before are listed below.

use leptos::prelude::*;

use crate::account_api::get_imports;
use crate::format;
use crate::imports::{FileCounts, FileOutcome, ImportReport, ImportState};

/// Where an upload from this page stands (set by the browser only).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Upload {
    Idle,
    /// `sent` of `total` bytes of the file named.
    Sending {
        name: String,
        sent: f64,
        total: f64,
    },
    /// The server took it and imports it.
    Importing,
    Refused {
        name: String,
        error: String,
    },
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let refreshed = RwSignal::new(0u32);
    let imports = Resource::new(move || refreshed.get(), |_| get_imports());
    let upload = RwSignal::new(Upload::Idle);
    // The import followed live: the one just started, or one running when the page opened.
    let running = RwSignal::new(None::<ImportReport>);
    let page = ImportControl {
        upload,
        running,
        refreshed,
        max_upload_bytes: RwSignal::new(0),
    };
    Effect::new(move |_| {
        let Some(Ok(imports)) = imports.get() else {
            return;
        };
        page.max_upload_bytes.set(imports.max_upload_bytes);
        let shown = running.get_untracked();
        match imports.running {
            Some(report) if shown.is_none() => page.follow(report),
            Some(_) => {}
            // The import shown ended, perhaps before its progress could be
            // followed: its outcome is in the history.
            None => {
                let ended = shown
                    .filter(ImportReport::is_running)
                    .and_then(|shown| imports.history.into_iter().find(|past| past.id == shown.id));
                if let Some(ended) = ended {
                    running.set(Some(ended));
                }
            }
        }
    });
    view! {
        <h2 class="page-title">"Import"</h2>
        <div class="import-page">
            <section class="panel" aria-labelledby="upload-heading">
                <h2 id="upload-heading">"Import your Spotify history"</h2>
                <p class="hint">
                    "Choose or drop "<code>"my_spotify_data.zip"</code>" as Spotify sent it, JSON files of it ("
                    <code>"Streaming_History_Audio_*.json"</code>", "<code>"endsong_*.json"</code>", "
                    <code>"StreamingHistory*.json"</code>"), or a "<code>"spotify_history.csv"</code>
                    ". Files imported before are skipped unless you import them again."
                </p>
                <Chooser page />
                {move || upload_status(upload.get())}
            </section>
            <section class="panel" aria-labelledby="progress-heading">
                <h2 id="progress-heading">"This import"</h2>
                {move || match running.get() {
                    Some(report) => view! { <ReportView report page /> }.into_any(),
                    None => view! { <p class="hint">"Nothing is being imported."</p> }.into_any(),
                }}
            </section>
            <section class="panel" aria-labelledby="history-heading">
                <h2 id="history-heading">"Import history"</h2>
                <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                    {move || imports.get().map(|imports| match imports {
                        Ok(imports) => history(imports.history).into_any(),
                        Err(error) => view! { <p class="notice stale" role="alert">{error.to_string()}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
        </div>
    }
}

/// The signals of the page an upload and its import report to.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct ImportControl {
    upload: RwSignal<Upload>,
    running: RwSignal<Option<ImportReport>>,
    refreshed: RwSignal<u32>,
    /// The largest upload the server takes (0 until known): larger files are
    /// refused here, before a byte is sent.
    max_upload_bytes: RwSignal<u64>,
}

impl ImportControl {
    /// Shows `report` and, in the browser, follows it until it ends.
    fn follow(self, report: ImportReport) {
        let running = report.is_running();
        self.running.set(Some(report));
        #[cfg(feature = "hydrate")]
        if running {
            browser::follow_progress(self);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = running;
    }

    /// The followed import ended: the history shows it.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn ended(self) {
        self.upload.set(Upload::Idle);
        self.refreshed.update(|n| *n += 1);
    }
}

/// The file input and the drop zone.
#[component]
fn Chooser(page: ImportControl) -> impl IntoView {
    let busy = move || {
        matches!(
            page.upload.get(),
            Upload::Sending { .. } | Upload::Importing
        ) || page.running.get().is_some_and(|report| report.is_running())
    };
    let ready = super::interactive();
    let dragging = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    let (on_change, on_drop) = (
        move |event: leptos::ev::Event| browser::chosen(page, event),
        move |event: leptos::ev::DragEvent| {
            event.prevent_default();
            dragging.set(false);
            browser::dropped(page, event);
        },
    );
    #[cfg(not(feature = "hydrate"))]
    let (on_change, on_drop) = (|_: leptos::ev::Event| (), |_: leptos::ev::DragEvent| ());
    view! {
        <label
            class="drop-zone"
            class:dragging=move || dragging.get()
            on:dragover=move |event| { event.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <span>"Drop your export here, or choose it"</span>
            <input
                type="file"
                name="history"
                accept=".zip,.json,.csv,application/zip,application/json,text/csv"
                multiple
                disabled=move || !ready.get() || busy()
                on:change=on_change
            />
        </label>
    }
}

fn upload_status(upload: Upload) -> impl IntoView {
    match upload {
        Upload::Idle | Upload::Importing => ().into_any(),
        Upload::Sending { name, sent, total } => view! {
            <div class="upload-progress" role="status">
                <p>{format!("Uploading {name}: {} of {}", bytes(sent), bytes(total))}</p>
                <progress max=total value=sent aria-label=format!("Upload of {name}")></progress>
            </div>
        }
        .into_any(),
        Upload::Refused { name, error } => view! {
            <p class="notice stale" role="alert"><strong>{format!("{name} was not imported. ")}</strong>{error}</p>
        }
        .into_any(),
    }
}

fn bytes(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.2} GB", n / 1e9),
        n if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        n if n >= 1e3 => format!("{:.0} kB", n / 1e3),
        n => format!("{n:.0} bytes"),
    }
}

/// An import's table: a row per history file, the totals, and where it stands.
#[component]
fn ReportView(report: ImportReport, page: ImportControl) -> impl IntoView {
    let totals = report.totals();
    let state = match &report.state {
        ImportState::Running if report.total_bytes > 0 => format!(
            "Importing {}: {} of {} read",
            report.upload,
            bytes(report.bytes_read as f64),
            bytes(report.total_bytes as f64)
        ),
        ImportState::Running => format!("Importing {}…", report.upload),
        ImportState::Complete
            if !report.files.is_empty() && report.files.iter().all(imported_before) =>
        {
            format!(
                "Nothing new in {}: every file was imported before.",
                report.upload
            )
        }
        ImportState::Complete => format!(
            "{} imported: {} listens sent.",
            report.upload,
            format::count(totals.sent as i64)
        ),
        ImportState::Incomplete { reason } => {
            format!("{} was not imported whole: {reason}.", report.upload)
        }
    };
    let skipped = report.files.iter().any(imported_before);
    let again = (!report.is_running() && skipped).then(|| {
        view! {
            <p class="hint">
                "Files imported before were skipped. "
                <button type="button" class="link-button" on:click=move |_| import_again(page)>
                    "Import them again"
                </button>
                " (their listens are then counted twice)."
            </p>
        }
    });
    view! {
        <p role="status" class="import-state">{state}</p>
        {report.is_running().then(|| view! {
            <progress max=report.total_bytes.max(1) value=report.bytes_read aria-label="Import progress"></progress>
        })}
        <FileTable files=report.files.clone() totals />
        {again}
    }
}

fn imported_before(file: &FileCounts) -> bool {
    matches!(file.outcome, FileOutcome::ImportedBefore { .. })
}

/// Uploads the last files again, to be imported even if imported before.
fn import_again(page: ImportControl) {
    #[cfg(feature = "hydrate")]
    browser::upload_again(page);
    #[cfg(not(feature = "hydrate"))]
    let _ = page;
}

#[component]
fn FileTable(files: Vec<FileCounts>, totals: FileCounts) -> impl IntoView {
    let several = files.len() > 1;
    let rows = files
        .into_iter()
        .map(|file| file_row(file, true))
        .collect_view();
    view! {
        <div class="table-scroll">
        <table class="ranking import-files" aria-label="Files of the import">
            <thead>
                <tr>
                    <th scope="col">"File"</th>
                    <th scope="col" class="num">"Read"</th>
                    <th scope="col" class="num">"Sent"</th>
                    <th scope="col" class="num">"Duplicates"</th>
                    <th scope="col" class="num">"Not music"</th>
                    <th scope="col" class="num">"Rejected"</th>
                    <th scope="col" class="num">"Failed"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
            {several.then(|| view! { <tfoot>{file_row(totals, false)}</tfoot> })}
        </table>
        </div>
    }
}

/// A file's row; the totals' (`with_status` false) says no status.
fn file_row(file: FileCounts, with_status: bool) -> impl IntoView {
    let status = match &file.outcome {
        _ if !with_status => String::new(),
        FileOutcome::Reading => "reading…".to_string(),
        FileOutcome::Acknowledging => "waiting for Kafka…".to_string(),
        FileOutcome::Complete => "complete".to_string(),
        FileOutcome::ImportedBefore { file, at, sent } => {
            let when = at.map_or_else(
                || "earlier".to_string(),
                |at| format!("on {}", format::moment(at)),
            );
            let name = file.rsplit('/').next().unwrap_or(file);
            format!(
                "skipped: imported before {when} (as {name}, {} listens)",
                format::count(*sent as i64)
            )
        }
        FileOutcome::Stopped { reason } => format!("stopped: {reason}"),
    };
    let number = |n: u64| format::count(n as i64);
    view! {
        <tr data-file=file.name.clone()>
            <td class="name">{file.name.clone()}</td>
            <td class="num" data-count="read">{number(file.read)}</td>
            <td class="num" data-count="sent">{number(file.sent)}</td>
            <td class="num" data-count="duplicates">{number(file.duplicates)}</td>
            <td class="num" data-count="not_music">{number(file.not_music)}</td>
            <td class="num" data-count="rejected">{number(file.rejected)}</td>
            <td class="num" data-count="failed">{number(file.failed)}</td>
            <td>{status}</td>
        </tr>
    }
}

fn history(history: Vec<ImportReport>) -> impl IntoView {
    if history.is_empty() {
        return view! { <p class="hint">"No imports from this page yet."</p> }.into_any();
    }
    let rows = history
        .into_iter()
        .map(|report| {
            let totals = report.totals();
            let state = match &report.state {
                ImportState::Running => "running".to_string(),
                ImportState::Complete => "complete".to_string(),
                ImportState::Incomplete { reason } => format!("incomplete: {reason}"),
            };
            view! {
                <tr>
                    <td>{format::moment(report.started_at)}</td>
                    <td class="name">{report.upload.clone()}</td>
                    <td class="num">{report.files.len()}</td>
                    <td class="num">{format::count(totals.read as i64)}</td>
                    <td class="num">{format::count(totals.sent as i64)}</td>
                    <td class="num">{format::count(totals.duplicates as i64)}</td>
                    <td class="num">{format::count(totals.not_music as i64)}</td>
                    <td class="num">{format::count(totals.rejected as i64)}</td>
                    <td>{state}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
        <table class="ranking import-history" aria-label="Import history">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Upload"</th>
                    <th scope="col" class="num">"Files"</th>
                    <th scope="col" class="num">"Read"</th>
                    <th scope="col" class="num">"Sent"</th>
                    <th scope="col" class="num">"Duplicates"</th>
                    <th scope="col" class="num">"Not music"</th>
                    <th scope="col" class="num">"Rejected"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        </div>
    }
    .into_any()
}

/// What only the browser does: send files, follow the server's progress.
#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{
        EventSource, File, HtmlInputElement, MessageEvent, ProgressEvent, XmlHttpRequest,
    };

    use super::{ImportControl, Upload};
    use crate::imports::{ImportReport, UploadRefusal, IMPORTS_PATH, IMPORT_PROGRESS_PATH};

    thread_local! {
        /// Files chosen and not yet uploaded, and the last ones uploaded (for "import again").
        static QUEUE: std::cell::RefCell<(Vec<File>, Vec<File>)> = Default::default();
    }

    pub fn chosen(page: ImportControl, event: leptos::ev::Event) {
        let Some(input) = event
            .target()
            .and_then(|target| target.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(files) = input.files() {
            start(
                (0..files.length()).filter_map(|i| files.get(i)).collect(),
                page,
            );
        }
        // The same file may be chosen again later.
        input.set_value("");
    }

    pub fn dropped(page: ImportControl, event: leptos::ev::DragEvent) {
        if let Some(files) = event.data_transfer().and_then(|data| data.files()) {
            start(
                (0..files.length()).filter_map(|i| files.get(i)).collect(),
                page,
            );
        }
    }

    pub fn upload_again(page: ImportControl) {
        let last = QUEUE.with(|queue| queue.borrow().1.clone());
        QUEUE.with(|queue| queue.borrow_mut().0 = last);
        next(page, true);
    }

    fn start(files: Vec<File>, page: ImportControl) {
        if files.is_empty() {
            return;
        }
        QUEUE.with(|queue| *queue.borrow_mut() = (files, Vec::new()));
        next(page, false);
    }

    /// Uploads the next file of the queue, if any.
    fn next(page: ImportControl, again: bool) {
        let file = QUEUE.with(|queue| {
            let mut queue = queue.borrow_mut();
            if queue.0.is_empty() {
                return None;
            }
            let file = queue.0.remove(0);
            queue.1.push(file.clone());
            Some(file)
        });
        if let Some(file) = file {
            send(file, page, again);
        }
    }

    fn send(file: File, page: ImportControl, again: bool) {
        let name = file.name();
        let refuse = move |error: String| {
            page.upload.set(Upload::Refused {
                name: name.clone(),
                error,
            })
        };
        let limit = page.max_upload_bytes.get_untracked();
        if limit > 0 && file.size() > limit as f64 {
            return refuse(format!(
                "it is {}, more than the {} this server takes; upload the export's history files one by one, \
                 or ask the server's administrator to raise MAX_UPLOAD_BYTES",
                super::bytes(file.size()),
                super::bytes(limit as f64)
            ));
        }
        let Ok(request) = XmlHttpRequest::new() else {
            return refuse("this browser cannot upload files".into());
        };
        let mut url = format!(
            "{IMPORTS_PATH}?name={}",
            percent_encoding::utf8_percent_encode(&file.name(), percent_encoding::NON_ALPHANUMERIC)
        );
        if again {
            url.push_str("&again=true");
        }
        if request.open("POST", &url).is_err() {
            return refuse("the upload cannot start".into());
        }
        let _ = request.set_request_header("Content-Type", "application/octet-stream");
        let total = file.size();
        let uploading = file.name();
        page.upload.set(Upload::Sending {
            name: uploading.clone(),
            sent: 0.0,
            total,
        });
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            page.upload.set(Upload::Sending {
                name: uploading.clone(),
                sent: event.loaded(),
                total,
            });
        });
        if let Ok(upload) = request.upload() {
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        on_progress.forget();
        let answered = request.clone();
        let refuse_answer = refuse.clone();
        let on_load = Closure::<dyn FnMut()>::new(move || {
            let text = answered.response_text().ok().flatten().unwrap_or_default();
            match answered.status().unwrap_or(0) {
                202 => match serde_json::from_str::<ImportReport>(&text) {
                    Ok(report) => {
                        page.upload.set(Upload::Importing);
                        page.follow(report);
                    }
                    Err(error) => {
                        refuse_answer(format!("the server's answer was unreadable: {error}"))
                    }
                },
                status => refuse_answer(
                    serde_json::from_str::<UploadRefusal>(&text)
                        .map(|refusal| refusal.error)
                        .unwrap_or_else(|_| format!("the server answered {status}; try again")),
                ),
            }
        });
        request.set_onload(Some(on_load.as_ref().unchecked_ref()));
        on_load.forget();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            refuse(
                "the upload was cut off (the connection failed); nothing was imported. Try again"
                    .into(),
            )
        });
        request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        if request.send_with_opt_blob(Some(&file)).is_err() {
            page.upload.set(Upload::Refused {
                name: file.name(),
                error: "the upload cannot start".into(),
            });
        }
    }

    /// Follows the running import's progress until its outcome, then
    /// uploads the next file chosen.
    pub fn follow_progress(page: ImportControl) {
        let Ok(source) = EventSource::new(IMPORT_PROGRESS_PATH) else {
            return;
        };
        let closing = source.clone();
        let on_report = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(report) = event
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<ImportReport>(&text).ok())
            else {
                return;
            };
            let running = report.is_running();
            page.running.set(Some(report));
            if !running {
                closing.close();
                page.ended();
                next(page, false);
            }
        });
        let _ =
            source.add_event_listener_with_callback("import", on_report.as_ref().unchecked_ref());
        on_report.forget();
        let closing = source.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            // Nothing runs any more (204) or the server is gone: the history tells.
            if closing.ready_state() == EventSource::CLOSED {
                page.ended();
            }
        });
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
    }
}
