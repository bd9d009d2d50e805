// photogen studio: the sketch tab. A plain canvas; each change is sent as a small PNG over
// one WebSocket. At most one frame is in flight: changes made meanwhile are sent as one frame
// when the answer arrives (the newest drawing wins), and answers older than the one shown are
// dropped. window.studioStats holds the stroke-to-picture latencies (ms) for tests.
import { $ } from "./common.js";

const canvas = $("canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true });
const out = $("out"), statusEl = $("status"), errorEl = $("error");
const state = { models: [], model: null, colour: "#000000", erase: false, brush: 10,
                drawing: false, last: null, undo: [], ws: null, nextId: 1, inFlight: null,
                dirty: false, changedAt: 0, shownId: 0, timer: null };
const stats = (window.studioStats = { latencies: [], frames: 0, dropped: 0, errors: [] });

function setError(text) { errorEl.textContent = text || ""; if (text) stats.errors.push(text); }
function percentile(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}
function showStats() {
  const l = stats.latencies;
  if (l.length) $("stats").textContent = `stroke to picture: p50 ${percentile(l, 0.5).toFixed(0)} ms, ` +
    `p95 ${percentile(l, 0.95).toFixed(0)} ms over ${l.length} updates; ${stats.dropped} stale frames skipped`;
}

// ---- connection -------------------------------------------------------------------------
function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/sketch`);
  state.ws = ws;
  ws.onopen = () => { statusEl.textContent = "ready"; markDirty(); };
  ws.onclose = () => { statusEl.textContent = "disconnected; reconnecting…"; state.inFlight = null;
                       setTimeout(connect, 1000); };
  ws.onmessage = async (event) => {
    const reply = JSON.parse(event.data);
    const sent = state.inFlight;
    state.inFlight = null;
    stats.dropped = reply.dropped || 0;
    if (reply.error) { setError(reply.error); state.frameError = true; }
    else if (reply.id > state.shownId) {
      state.shownId = reply.id;
      out.src = `data:image/png;base64,${reply.png}`;
      $("download").href = out.src;
      try { await out.decode(); } catch (e) { /* shown on load anyway */ }
      if (sent && sent.id === reply.id) stats.latencies.push(performance.now() - sent.changedAt);
      stats.frames += 1;
      statusEl.textContent = `network ${reply.ms} ms`;
      if (state.frameError) { setError(""); state.frameError = false; }  // not an upload's message
      showStats();
    }
    if (state.dirty) send();
  };
}

function markDirty() {
  state.dirty = true;
  state.changedAt = performance.now();
  if (!state.inFlight && !state.timer) state.timer = setTimeout(() => { state.timer = null; send(); }, 10);
}

function send() {
  const ws = state.ws;
  if (!state.dirty || state.inFlight || !ws || ws.readyState !== WebSocket.OPEN || !state.model) return;
  state.dirty = false;
  const frame = { id: state.nextId++, changedAt: state.changedAt };
  state.inFlight = frame;
  const png = canvas.toDataURL("image/png").split(",")[1];
  ws.send(JSON.stringify({ id: frame.id, model: state.model.name, png }));
}

// ---- drawing ----------------------------------------------------------------------------
function point(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
}
function stroke(from, to) {
  ctx.strokeStyle = state.erase ? state.model.background : state.colour;
  ctx.lineWidth = state.brush;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(...from); ctx.lineTo(...to); ctx.stroke();
  markDirty();
}
function snapshot() {
  state.undo.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
  if (state.undo.length > 50) state.undo.shift();
}
canvas.addEventListener("pointerdown", (e) => {
  if (!state.model) return;
  canvas.setPointerCapture(e.pointerId);
  snapshot();
  state.drawing = true; state.last = point(e);
  stroke(state.last, state.last);
});
canvas.addEventListener("pointermove", (e) => {
  if (!state.drawing) return;
  const p = point(e); stroke(state.last, p); state.last = p;
});
for (const ev of ["pointerup", "pointercancel"]) canvas.addEventListener(ev, () => { state.drawing = false; });

function fill(colour) { ctx.fillStyle = colour; ctx.fillRect(0, 0, canvas.width, canvas.height); markDirty(); }
function drawImageFitted(img) {  // letterboxed on the background: the aspect ratio kept
  fill(state.model.background);
  const s = Math.min(canvas.width / img.naturalWidth, canvas.height / img.naturalHeight);
  const w = img.naturalWidth * s, h = img.naturalHeight * s;
  ctx.drawImage(img, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
  markDirty();
}
async function loadExample() {
  const r = await fetch(`/api/sketch/example?model=${encodeURIComponent(state.model.name)}`);
  if (!r.ok) { setError("no example for this model"); return; }
  const img = new Image();
  img.src = URL.createObjectURL(await r.blob());
  await img.decode();
  snapshot(); drawImageFitted(img);
}

// ---- tools ------------------------------------------------------------------------------
function selectTool(erase) {
  state.erase = erase;
  $("pen").classList.toggle("active", !erase); $("eraser").classList.toggle("active", erase);
}
$("pen").onclick = () => selectTool(false);
$("eraser").onclick = () => selectTool(true);
$("brush").oninput = (e) => { state.brush = +e.target.value; $("brush-size").textContent = e.target.value; };
$("undo").onclick = () => { const img = state.undo.pop(); if (img) { ctx.putImageData(img, 0, 0); markDirty(); } };
$("clear").onclick = () => { snapshot(); fill(state.model.background); };
$("example").onclick = loadExample;
$("upload").onchange = async (e) => {
  // Checked by the server as files are (a truncated PNG still "decodes" in a browser).
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  const r = await fetch(`/api/upload?side=${canvas.width}`, { method: "POST", body: file });
  if (!r.ok) {
    let msg = `${r.status}`;
    try { msg = (await r.json()).error; } catch (err) { /* not JSON */ }
    setError(`${file.name}: ${msg}`);
    return;
  }
  const img = new Image();
  img.src = URL.createObjectURL(await r.blob());
  await img.decode();
  snapshot(); drawImageFitted(img); setError("");
};
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "z") { e.preventDefault(); $("undo").click(); }
  else if (e.key === "p") selectTool(false);
  else if (e.key === "e") selectTool(true);
});

function showPalette(model) {
  const box = $("palette");
  box.replaceChildren();
  const entries = model.kind === "labels" ? Object.entries(model.palette) : [["ink", "#000000"], ["paper", "#ffffff"]];
  entries.forEach(([name, hex], i) => {
    const b = document.createElement("button");
    b.className = "swatch"; b.style.background = hex; b.title = name; b.dataset.name = name;
    b.textContent = name;
    // the label in black or white, whichever contrasts more with the swatch (WCAG luminance)
    const lin = [1, 3, 5].map((k) => { const c = parseInt(hex.slice(k, k + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
    const lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    b.style.color = (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) ? "#000" : "#fff";
    b.onclick = () => {
      state.colour = hex; selectTool(false);
      box.querySelectorAll(".swatch").forEach((s) => s.classList.toggle("active", s === b));
    };
    box.appendChild(b);
    if (i === (model.kind === "labels" ? 2 : 0)) b.click();  // windows, or ink
  });
}

async function chooseModel(name) {
  state.model = state.models.find((m) => m.name === name);
  $("model-note").textContent = state.model.description;
  showPalette(state.model);
  state.undo = [];
  await loadExample();
}

async function start() {
  const r = await fetch("/api/sketch/models");
  state.models = await r.json();
  const select = $("model");
  if (!state.models.length) {
    setError("no pix2pix model here: start the studio with --models RUN_FOLDER");
    statusEl.textContent = "no model";
    return;
  }
  for (const m of state.models) select.add(new Option(m.name, m.name));
  select.onchange = () => chooseModel(select.value);
  await chooseModel(state.models[0].name);
  connect();
}
start().catch((e) => setError(String(e)));
