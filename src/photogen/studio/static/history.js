// The history strip: this visitor's results (kept by the server for the session: they survive
// a reload), each a thumbnail that downloads the full result with its settings; and the
// re-run target: a PNG photogen made, dropped on the strip or chosen, opens its tab with the
// settings it carries (the server reads its text chunk), as AUTOMATIC1111's "PNG info" does.
import { selectTab } from "./tabs.js";

const bar = document.getElementById("history");
const strip = bar.querySelector(".strip"), note = bar.querySelector(".settings-note");
const err = bar.querySelector(".settings-error");
const history = (window.studioHistory = { shown: 0, loaded: null });

function describe(job) {
  const f = (job.settings && job.settings.fields) || {};
  const parts = Object.entries(f).filter(([k]) => k !== "hints").map(([k, v]) => `${k} ${v}`);
  return `${job.kind}${parts.length ? ": " + parts.join(", ") : ""}`;
}

export async function refresh() {
  const r = await fetch("/api/jobs");
  if (!r.ok) return;
  const done = (await r.json()).filter((j) => j.status === "done");
  strip.replaceChildren(...done.reverse().map((job) => {
    const li = document.createElement("li"), a = document.createElement("a"), img = new Image();
    a.href = `/api/jobs/${job.id}/result.png`; a.title = describe(job);
    img.src = a.href; img.alt = describe(job);
    a.append(img, `${job.kind} ${job.seconds != null ? job.seconds + " s" : ""}`);
    li.append(a); return li;
  }));
  history.shown = done.length;
}

async function load(file) {
  err.textContent = "";
  const r = await fetch("/api/settings", { method: "POST", body: file });
  const found = await r.json();
  if (!r.ok) { err.textContent = `${file.name || "the picture"}: ${found.error}`; return; }
  const panel = document.getElementById(found.tab);
  const tab = document.querySelector(`.tab[data-tab="${found.tab}"]`);
  if (!panel || !tab || tab.hidden) { err.textContent = `made by the ${found.tab} tab, which this studio does not offer`; return; }
  for (const [name, value] of Object.entries(found.fields)) {
    const el = panel.querySelector(`[name="${name}"]`);
    if (!el) continue;
    if (el.type === "checkbox") el.checked = value === true || value === "true";
    else el.value = String(value);
    el.dispatchEvent(new Event("input"));
  }
  selectTab(tab, true);
  const inputs = Object.keys(found.inputs || {});
  note.textContent = `${found.tab} settings of ${file.name || "the dropped picture"} loaded` +
    (inputs.length ? `; choose the same ${inputs.join(" and ")} picture${inputs.length > 1 ? "s" : ""} for the same result` : "") +
    (found.device ? ` (made on ${found.device}, ${found.threads} thread${found.threads === 1 ? "" : "s"})` : "");
  history.loaded = found;
}

bar.querySelector(".settings-file").onchange = (e) => {
  const f = e.target.files[0]; e.target.value = "";
  if (f) load(f);
};
bar.addEventListener("dragover", (e) => { e.preventDefault(); bar.classList.add("over"); });
bar.addEventListener("dragleave", () => bar.classList.remove("over"));
bar.addEventListener("drop", (e) => {
  e.preventDefault(); bar.classList.remove("over");
  const f = e.dataTransfer.files[0];
  if (f) load(f);
});

// a finished job appears in the strip as soon as the page learns of it
document.addEventListener("photogen:finished", () => refresh());
refresh();
