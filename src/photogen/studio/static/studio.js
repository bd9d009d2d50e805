// photogen studio: the sketch tab. A plain canvas; each change is sent as a small PNG over
// one WebSocket. At most one frame is in flight: changes made meanwhile are sent as one frame
// when the answer arrives (the newest drawing wins), and answers older than the one shown are
// dropped. window.studioStats holds the stroke-to-picture latencies (ms) for tests.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
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
      if (reply.error) { setError(reply.error); }
      else if (reply.id > state.shownId) {
        state.shownId = reply.id;
        out.src = `data:image/png;base64,${reply.png}`;
        $("download").href = out.src;
        try { await out.decode(); } catch (e) { /* shown on load anyway */ }
        if (sent && sent.id === reply.id) stats.latencies.push(performance.now() - sent.changedAt);
        stats.frames += 1;
        statusEl.textContent = `network ${reply.ms} ms`;
        setError("");
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
})();

// ---- tabs, and the job tabs (style transfer, texture) -------------------------------------
// A job is queued on the server; the page polls it for progress, ETA, loss and the image
// being optimised; Cancel stops the computation on the server.
(() => {
  const jobStats = (window.studioJobs = { finished: [], previews: 0 });
  // The WAI-ARIA tabs pattern: one tab in the Tab order (roving tabindex), arrow keys, Home
  // and End move between the visible tabs and open them.
  function selectTab(tab, focus) {
    document.querySelectorAll(".tab").forEach((t) => {
      const on = t === tab;
      t.classList.toggle("active", on);
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
    });
    document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== tab.dataset.tab; });
    if (focus) tab.focus();
  }
  // Ctrl+Enter (Cmd+Enter) runs the open tab, as in the tools people already use
  document.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key !== "Enter") return;
    const panel = [...document.querySelectorAll(".panel")].find((p) => !p.hidden);
    const run = panel && panel.querySelector("button.run:not([disabled])");
    if (run) { e.preventDefault(); run.click(); }
  });
  document.querySelectorAll(".tab").forEach((tab) => {
    tab.onclick = () => selectTab(tab, false);
    tab.onkeydown = (e) => {
      const tabs = [...document.querySelectorAll(".tab")].filter((t) => !t.hidden);
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      selectTab(tabs[(next + tabs.length) % tabs.length], true);
    };
  });

  async function fillSamples(panel, defaults) {
    const names = await (await fetch("/api/samples")).json();
    panel.querySelectorAll("select.sample").forEach((sel) => {
      sel.add(new Option("(choose)", ""));
      for (const n of names) sel.add(new Option(n, n));
      const want = defaults[sel.dataset.for];
      if (names.includes(want)) sel.value = want;
      const load = (initial) => {
        if (!sel.value) return;
        const blob = fetch(`/api/samples/${encodeURIComponent(sel.value)}.png`).then((r) => r.blob());
        setInput(panel, sel.dataset.for, blob, initial);
      };
      sel.onchange = () => load(false);
      load(true);
    });
    panel.querySelectorAll("input.file").forEach((inp) => {
      inp.onchange = () => {
        const f = inp.files[0]; inp.value = "";
        if (!f) return;
        const sel = panel.querySelector(`select.sample[data-for="${inp.dataset.for}"]`);
        if (sel) sel.value = "";  // the upload, not the sample, is what runs
        setInput(panel, inp.dataset.for, Promise.resolve(f));
      };
    });
    panel.querySelectorAll("input[type=range]").forEach((r) => {
      const o = r.nextElementSibling; r.oninput = () => { if (o) o.textContent = r.value; };
    });
  }

  const inputs = new Map();  // panel id + role -> Blob
  async function setInput(panel, role, blobPromise, initial = false) {
    if (!blobPromise) return;
    const blob = await blobPromise;
    if (initial && inputs.has(`${panel.id}:${role}`)) return;  // the visitor chose meanwhile
    inputs.set(`${panel.id}:${role}`, blob);
    const url = URL.createObjectURL(blob);
    const img = panel.querySelector(`img.input[data-for="${role}"]`);
    if (img) img.src = url;
    if (panel.id === "texture") drawHoles(panel, url);
    if (panel.id === "pixelcnn") { panel.box = null; drawBoxPicker(); }
    if (panel.id === "colorize") {
      panel.pins = []; const c = panel.querySelector("canvas.strokes");
      c.getContext("2d").clearRect(0, 0, c.width, c.height); painted = false; colorizeNow();
    }
  }

  function drawHoles(panel, url) {
    const cv = panel.querySelector("canvas.holes"), ctx = cv.getContext("2d");
    const img = new Image();
    img.onload = () => {
      cv.width = img.naturalWidth; cv.height = img.naturalHeight;
      ctx.drawImage(img, 0, 0);
      panel.holeMask = document.createElement("canvas");
      panel.holeMask.width = cv.width; panel.holeMask.height = cv.height;
      const m = panel.holeMask.getContext("2d"); m.fillStyle = "#fff"; m.fillRect(0, 0, cv.width, cv.height);
      panel.holesPainted = false;
    };
    img.src = url;
    let down = false;
    const paint = (e) => {
      const r = cv.getBoundingClientRect();
      const x = (e.clientX - r.left) * cv.width / r.width, y = (e.clientY - r.top) * cv.height / r.height;
      const rad = Math.max(3, cv.width / 40);
      ctx.fillStyle = "rgba(255,0,0,0.8)"; ctx.beginPath(); ctx.arc(x, y, rad, 0, 7); ctx.fill();
      const m = panel.holeMask.getContext("2d"); m.fillStyle = "#000"; m.beginPath(); m.arc(x, y, rad, 0, 7); m.fill();
      panel.holesPainted = true;
    };
    cv.onpointerdown = (e) => { down = true; cv.setPointerCapture(e.pointerId); paint(e); };
    cv.onpointermove = (e) => { if (down) paint(e); };
    cv.onpointerup = () => { down = false; };
  }

  function field(panel, name) { return panel.querySelector(`[name="${name}"]`); }

  async function runJob(panel, url, form) {
    const err = panel.querySelector(".error"), bar = panel.querySelector("progress");
    const text = panel.querySelector(".progress-text"), preview = panel.querySelector("img.preview");
    const cancel = panel.querySelector(".cancel"), result = panel.querySelector("a.result");
    err.textContent = ""; result.hidden = true; bar.value = 0;
    const r = await fetch(url, { method: "POST", body: form });
    const job = await r.json();
    if (!r.ok) { err.textContent = job.error || `error ${r.status}`; return; }
    panel.querySelectorAll(".run, .fill").forEach((b) => { b.disabled = true; });
    cancel.disabled = false;
    cancel.onclick = () => fetch(`/api/jobs/${job.id}/cancel`, { method: "POST" });
    let shown = 0;
    for (;;) {
      await new Promise((res) => setTimeout(res, 300));
      let s;
      try {  // a restarted server has forgotten the job and the session: say so, reset
        const rs = await fetch(`/api/jobs/${job.id}`);
        s = await rs.json();
        if (!rs.ok) throw new Error(s.error || `error ${rs.status}`);
      } catch (e) {
        err.textContent = `the job is gone (${e.message}); the server may have restarted: run it again`;
        text.textContent = ""; jobStats.finished.push({ kind: job.kind, status: "lost", id: job.id });
        break;
      }
      if (s.total) { bar.max = s.total; bar.value = s.done; }
      text.textContent = (s.status === "queued" && s.position ? `queued: ${s.position === 1 ? "next" : `${s.position - 1} ahead`}` : `${s.status}`) + (s.total ? ` ${s.done}/${s.total}` : "") +
        (s.eta != null ? `, ${s.eta.toFixed(0)} s left` : "") + (s.loss != null ? `, loss ${s.loss.toPrecision(4)}` : "");
      if (s.curve && s.curve.train) drawCurve(panel.querySelector("canvas.curve"), s.curve);
      if (s.preview && s.preview !== shown) {
        shown = s.preview; preview.src = `/api/jobs/${job.id}/preview.png?v=${shown}`; jobStats.previews += 1;
      }
      if (["done", "error", "cancelled"].includes(s.status)) {
        if (s.status === "error") err.textContent = s.error;
        if (s.status === "done") { result.href = `/api/jobs/${job.id}/result.png`; result.hidden = false;
                                   if (s.size) result.textContent = `Download the result (${s.size[0]}x${s.size[1]} px, as computed)`;
                                   text.textContent = `done in ${s.seconds} s` + (s.loss != null ? `, loss ${s.loss.toPrecision(4)}` : ""); }
        jobStats.finished.push({ kind: s.kind, status: s.status, id: s.id });
        break;
      }
    }
    cancel.disabled = true;
    panel.querySelectorAll(".run, .fill").forEach((b) => { b.disabled = false; });
  }

  function drawCurve(cv, curve) {
    if (!cv) return;
    const ctx = cv.getContext("2d"), w = cv.width, h = cv.height, pad = 24;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
    const all = [...curve.train, ...(curve.test || [])];
    const hi = Math.max(...all, 1e-6), n = Math.max(curve.train.length, 2);
    ctx.strokeStyle = "#ccc"; ctx.strokeRect(pad, 4, w - pad - 4, h - pad - 4);
    ctx.fillStyle = "#667085"; ctx.font = "11px sans-serif";
    ctx.fillText(hi.toPrecision(2), 2, 12); ctx.fillText("0", 12, h - pad); ctx.fillText(`epoch ${curve.train.length}`, w - 80, h - 6);
    for (const [series, colour] of [[curve.train, "#2a73cc"], [curve.test || [], "#f5941f"]]) {
      ctx.strokeStyle = colour; ctx.beginPath();
      series.forEach((v, i) => { const x = pad + (w - pad - 4) * i / (n - 1), y = h - pad - (h - pad - 8) * v / hi;
                                 if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
      ctx.stroke();
    }
    if (curve.test_accuracy != null) { ctx.fillStyle = "#1d2330"; ctx.fillText(`test accuracy ${(100 * curve.test_accuracy).toFixed(1)}%`, pad + 6, 18); }
  }

  const playground = document.getElementById("playground");
  playground.querySelectorAll("input[type=range]").forEach((r) => {
    const o = r.nextElementSibling; r.oninput = () => { if (o) o.textContent = r.value; };
  });
  playground.querySelector(".run").onclick = () => {
    const f = new FormData();
    for (const n of ["dataset", "noise", "hidden", "activation", "lr", "l2", "epochs", "seed"]) f.append(n, field(playground, n).value);
    runJob(playground, "/api/jobs/playground", f);
  };

  const style = document.getElementById("style");
  style.querySelector(".run").onclick = () => {
    const c = inputs.get("style:content"), s = inputs.get("style:style");
    if (!c || !s) { style.querySelector(".error").textContent = "choose a content and a style picture"; return; }
    const f = new FormData();
    f.append("content", c, "content.png"); f.append("style", s, "style.png");
    for (const n of ["size", "steps", "seed"]) f.append(n, field(style, n).value);
    f.append("preserve_colors", field(style, "preserve_colors").checked);
    runJob(style, "/api/jobs/style", f);
  };

  const texture = document.getElementById("texture");
  function textureForm(withMask) {
    const src = inputs.get("texture:source");
    if (!src) { texture.querySelector(".error").textContent = "choose an example picture"; return null; }
    const f = new FormData();
    f.append("source", src, "source.png");
    for (const n of ["size", "steps", "seed", "method"]) f.append(n, field(texture, n).value);
    f.append("tileable", field(texture, "tileable").checked);
    return f;
  }
  texture.querySelector(".run").onclick = () => { const f = textureForm(); if (f) runJob(texture, "/api/jobs/texture", f); };
  texture.querySelector(".fill").onclick = () => {
    if (!texture.holesPainted) { texture.querySelector(".error").textContent = "paint the holes on the example first"; return; }
    const f = textureForm(); if (!f) return;
    f.set("method", "efros-leung"); f.set("tileable", "false");
    texture.holeMask.toBlob((mask) => { f.append("mask", mask, "mask.png"); runJob(texture, "/api/jobs/texture", f); }, "image/png");
  };

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
      jobStats.finished.push({ kind: "colorize", status: "done" });
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

  // PixelCNN completion: the picture shrunk to the model's scale, a box dragged over it.
  const pcnn = document.getElementById("pixelcnn");
  pcnn.box = null;
  async function drawBoxPicker() {
    const blob = inputs.get("pixelcnn:image");
    if (!blob) return;
    const side = +field(pcnn, "size").value, img = new Image();
    img.src = URL.createObjectURL(blob); await img.decode();
    const s = side / Math.max(img.naturalWidth, img.naturalHeight);
    const cv = pcnn.querySelector("canvas.boxpick");
    cv.width = Math.max(8, Math.round(img.naturalWidth * s)); cv.height = Math.max(8, Math.round(img.naturalHeight * s));
    cv.style.height = `${320 * cv.height / Math.max(cv.width, cv.height)}px`;
    cv.style.width = `${320 * cv.width / Math.max(cv.width, cv.height)}px`;
    const ctx = cv.getContext("2d"); ctx.drawImage(img, 0, 0, cv.width, cv.height);
    const base = ctx.getImageData(0, 0, cv.width, cv.height);
    if (!pcnn.box) { const bw = Math.round(cv.width * 0.4), bh = Math.round(cv.height * 0.3);
                     pcnn.box = [Math.round((cv.width - bw) / 2), Math.round(cv.height * 0.45), bw, bh]; }
    const show = () => { ctx.putImageData(base, 0, 0); const [x, y, w, h] = pcnn.box;
                         ctx.fillStyle = "rgba(128,128,128,0.85)"; ctx.fillRect(x, y, w, h); };
    show();
    let start = null;
    const at = (e) => { const r = cv.getBoundingClientRect();
      return [Math.max(0, Math.min(cv.width, Math.round((e.clientX - r.left) * cv.width / r.width))),
              Math.max(0, Math.min(cv.height, Math.round((e.clientY - r.top) * cv.height / r.height)))]; };
    cv.onpointerdown = (e) => { cv.setPointerCapture(e.pointerId); start = at(e); };
    cv.onpointermove = (e) => { if (!start) return; const p = at(e);
      pcnn.box = [Math.min(start[0], p[0]), Math.min(start[1], p[1]), Math.max(1, Math.abs(p[0] - start[0])), Math.max(1, Math.abs(p[1] - start[1]))]; show(); };
    cv.onpointerup = () => { start = null; };
  }
  pcnn.querySelector("[name=size]").addEventListener("change", () => { pcnn.box = null; drawBoxPicker(); });
  pcnn.querySelector(".run").onclick = () => {
    const img = inputs.get("pixelcnn:image");
    if (!img || !pcnn.box) { pcnn.querySelector(".error").textContent = "choose a picture"; return; }
    const f = new FormData();
    f.append("image", img, "image.png"); f.append("box", pcnn.box.join(","));
    for (const n of ["model", "size", "n", "temperature", "seed"]) f.append(n, field(pcnn, n).value);
    runJob(pcnn, "/api/jobs/pixelcnn", f);
  };
  fetch("/api/pixelcnn/models").then((r) => r.json()).then((models) => {
    if (!models.length) return;
    document.querySelector(".tab[data-tab=pixelcnn]").hidden = false;
    const sel = field(pcnn, "model"), size = field(pcnn, "size");
    for (const m of models) sel.add(new Option(m.name, m.name));
    const fit = () => {  // the scale the model was trained at
      const m = models.find((x) => x.name === sel.value);
      size.value = m.side; size.nextElementSibling.textContent = m.side;
      pcnn.box = null; drawBoxPicker();
    };
    sel.addEventListener("change", fit);
    fit();
    fillSamples(pcnn, { image: models[0].sample });
  });

  const matching = document.getElementById("matching");
  fetch("/api/match/info").then((r) => r.json()).then((info) => {
    if (!info.available) return;
    document.querySelector(".tab[data-tab=matching]").hidden = false;
    matching.querySelector(".db-info").textContent = `database: ${info.images.toLocaleString()} tiny images, ${info.labels} labels`;
    fillSamples(matching, { photo: "coffee" });
  });
  matching.querySelector(".run").onclick = async () => {
    const photo = inputs.get("matching:photo"), err = matching.querySelector(".error");
    if (!photo) { err.textContent = "choose a photo"; return; }
    const f = new FormData();
    f.append("photo", photo, "photo.png"); f.append("k", field(matching, "k").value);
    matching.querySelector(".progress-text").textContent = "searching…"; err.textContent = "";
    const r = await fetch("/api/match", { method: "POST", body: f });
    const res = await r.json();
    matching.querySelector(".progress-text").textContent = "";
    if (!r.ok) { err.textContent = res.error; return; }
    matching.querySelector("img.montage").src = `data:image/png;base64,${res.montage}`;
    matching.querySelector("img.colourised").src = `data:image/png;base64,${res.colourised}`;
    const near = res.neighbours.slice(0, 5).map((n) => `${n.label} (${n.distance})`).join(", ");
    matching.querySelector(".vote").textContent = `vote: ${res.vote.label} (${(100 * res.vote.share).toFixed(0)}% of the weight); nearest: ${near}`;
    jobStats.finished.push({ kind: "match", status: "done" });
  };

  fillSamples(style, { content: "chelsea", style: "starry_night" });
  fillSamples(texture, { source: "gravel" });
})();
