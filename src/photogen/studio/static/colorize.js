import { field, fillSamples, finished, inputs, onInput } from "./common.js";

// Colorize: the best installed model, and colour hints for every model: points (a click) and
// scribbles painted on a transparent layer over the result; the server propagates each into
// its region. Official models not installed are offered as downloads.
const col = document.getElementById("colorize");
col.pins = [];
const strokes = col.querySelector("canvas.strokes");
let painted = false;
col.querySelectorAll("input[type=range]").forEach((r) => {
  const o = r.nextElementSibling; r.oninput = () => { if (o) o.textContent = r.value; };
  r.onchange = () => colorizeNow();
});
function fitStrokes() {
  const img = col.querySelector("img.preview");
  if (!img.naturalWidth) return;
  const w = img.clientWidth, h = img.clientHeight;
  strokes.style.width = `${w}px`; strokes.style.height = `${h}px`;
  const scale = Math.min(1, 1024 / Math.max(img.naturalWidth, img.naturalHeight));
  const cw = Math.max(1, Math.round(img.naturalWidth * scale)), ch = Math.max(1, Math.round(img.naturalHeight * scale));
  if (strokes.width !== cw || strokes.height !== ch) {  // a new photo: new layer
    strokes.width = cw; strokes.height = ch; painted = false;
  }
}
function showPins() {
  const box = col.querySelector(".pins"), img = col.querySelector("img.preview");
  box.replaceChildren();
  box.style.width = `${img.clientWidth}px`; box.style.height = `${img.clientHeight}px`;
  for (const [x, y, c] of col.pins) {
    const d = document.createElement("div"); d.className = "pin";
    d.style.left = `${100 * x}%`; d.style.top = `${100 * y}%`; d.style.background = c; box.appendChild(d);
  }
}
let colBusy = false, colAgain = false;
async function colorizeNow() {
  const photo = inputs.get("colorize:photo"), err = col.querySelector(".error");
  if (!photo || !col.models) return;
  if (colBusy) { colAgain = true; return; }  // the newest settings run next
  colBusy = true; err.textContent = "";
  const f = new FormData();
  f.append("photo", photo, "photo.png");
  f.append("model", field(col, "model").value);
  f.append("temperature", field(col, "temperature").value);
  f.append("hints", JSON.stringify(col.pins));
  if (painted) f.append("strokes", await new Promise((res) => strokes.toBlob(res, "image/png")), "strokes.png");
  col.querySelector(".progress-text").textContent = "colorizing…";
  const t0 = performance.now();
  const r = await fetch("/api/colorize", { method: "POST", body: f });
  const a = col.querySelector("a.result");
  if (r.ok) {
    const url = URL.createObjectURL(await r.blob());
    const img = col.querySelector("img.preview");
    img.src = url; await img.decode(); fitStrokes(); showPins();
    a.href = url; a.hidden = false;
    col.querySelector(".progress-text").textContent = `${(performance.now() - t0).toFixed(0)} ms`;
    finished({ kind: "colorize", status: "done" });
  } else {  // the previous result is not this photo's: take it away with its link
    a.hidden = true; a.removeAttribute("href");
    col.querySelector("img.preview").removeAttribute("src");
    col.pins = []; showPins();
    err.textContent = (await r.json()).error; col.querySelector(".progress-text").textContent = "";
  }
  colBusy = false;
  if (colAgain) { colAgain = false; colorizeNow(); }
}
// one pointer gesture: a click without movement is a point; a drag paints (or erases)
let stroke = null;
function at(e) {
  const r = strokes.getBoundingClientRect();
  return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
}
strokes.addEventListener("pointerdown", (e) => {
  strokes.setPointerCapture(e.pointerId);
  stroke = { start: at(e), last: at(e), moved: false };
});
strokes.addEventListener("pointermove", (e) => {
  if (!stroke) return;
  const p = at(e), tool = field(col, "tool").value;
  if (Math.hypot((p[0] - stroke.start[0]) * strokes.width, (p[1] - stroke.start[1]) * strokes.height) < 3 && !stroke.moved) return;
  stroke.moved = true;
  if (tool === "point") return;
  const ctx = strokes.getContext("2d");
  ctx.globalCompositeOperation = tool === "eraser" ? "destination-out" : "source-over";
  ctx.strokeStyle = field(col, "colour").value; ctx.lineCap = "round";
  ctx.lineWidth = Math.max(3, strokes.width / (tool === "eraser" ? 25 : 120));
  ctx.beginPath(); ctx.moveTo(stroke.last[0] * strokes.width, stroke.last[1] * strokes.height);
  ctx.lineTo(p[0] * strokes.width, p[1] * strokes.height); ctx.stroke();
  if (tool === "brush") painted = true;
  stroke.last = p;
});
strokes.addEventListener("pointerup", (e) => {
  if (!stroke) return;
  const tool = field(col, "tool").value, [x, y] = at(e);
  if (!stroke.moved && tool !== "eraser") col.pins.push([x, y, field(col, "colour").value]);
  if (tool === "eraser") {  // also remove the points under the eraser's path
    col.pins = col.pins.filter(([px, py]) => Math.hypot(px - x, py - y) > 0.04);
  }
  stroke = null; showPins(); colorizeNow();
});
col.querySelector(".clear-pins").onclick = () => {
  col.pins = []; strokes.getContext("2d").clearRect(0, 0, strokes.width, strokes.height);
  painted = false; showPins(); colorizeNow();
};
col.querySelector(".run").onclick = () => colorizeNow();
const dl = { row: col.querySelector(".download-row"), job: null };
async function download(name) {
  const f = new FormData(); f.append("name", name);
  const r = await fetch("/api/jobs/weights", { method: "POST", body: f });
  const job = await r.json(), bar = col.querySelector(".download-bar"), note = col.querySelector(".download-note");
  if (!r.ok) { col.querySelector(".error").textContent = job.error; return; }
  const cancel = col.querySelector(".download-cancel");
  cancel.disabled = false; cancel.onclick = () => fetch(`/api/jobs/${job.id}/cancel`, { method: "POST" });
  for (;;) {
    await new Promise((res) => setTimeout(res, 300));
    const s = await (await fetch(`/api/jobs/${job.id}`)).json();
    if (s.total) { bar.max = s.total; bar.value = s.done; }
    note.textContent = `${name}: ${(s.done / 1048576).toFixed(1)} of ${(s.total / 1048576).toFixed(0)} MB`;
    if (["done", "error", "cancelled"].includes(s.status)) {
      note.textContent = s.status === "done" ? `${name} installed (sha256 checked)` : s.status === "error" ? s.error : `${name}: cancelled`;
      break;
    }
  }
  cancel.disabled = true; loadModels(name);
}
col.querySelector(".download").onclick = () => {
  const v = field(col, "model").value;
  if (v.startsWith("download:")) download(v.slice(9));
};
function loadModels(select) {
  return fetch("/api/colorize/models").then((r) => r.json()).then((models) => {
    col.models = models.filter((m) => m.installed);
    const sel = field(col, "model"); sel.replaceChildren();
    for (const m of col.models) sel.add(new Option(m.name + (m.default ? " (best installed)" : ""), m.name, false, select ? m.name === select : m.default));
    for (const m of models.filter((x) => !x.installed)) sel.add(new Option(`download ${m.name} (about ${m.download_mb} MB)…`, `download:${m.name}`));
    sel.onchange = () => {
      const off = sel.value.startsWith("download:");
      dl.row.hidden = !off;
      if (off) col.querySelector(".download-note").textContent = `${sel.value.slice(9)} is not installed: download it once (sha256-checked)`;
      else colorizeNow();
    };
    dl.row.hidden = true;
  });
}
loadModels().then(() => fillSamples(col, { photo: "chelsea" }));
onInput("colorize", () => {
  col.pins = []; strokes.getContext("2d").clearRect(0, 0, strokes.width, strokes.height);
  painted = false; colorizeNow();
});
