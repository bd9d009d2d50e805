// photogen studio: what the tabs share. The pictures a tab works on (samples or uploads), its
// form fields, and jobs: a job is queued on the server; the page polls it for progress, ETA,
// loss and the image being optimised; Cancel stops the computation on the server.
// window.studioJobs records the finished jobs and previews shown, for tests.
export const $ = (id) => document.getElementById(id);
export const jobStats = (window.studioJobs = { finished: [], previews: 0 });
// a job or a result ended: recorded for tests, and told to whoever listens (the history strip)
export function finished(record) {
  jobStats.finished.push(record);
  document.dispatchEvent(new CustomEvent("photogen:finished", { detail: record }));
}

// a range input shows its value in the element after it
export function showValues(panel) {
  panel.querySelectorAll("input[type=range]").forEach((r) => {
    const o = r.nextElementSibling; r.oninput = () => { if (o) o.textContent = r.value; };
  });
}

const roughly = (t) => (t < 90 ? `${t.toFixed(0)} s` : `${(t / 60).toFixed(0)} min`);

/** One line for a job's state: a queued job's place, when it starts and ends (the server's
 *  estimate from the running jobs' rates and past jobs of its kind), a running job's steps,
 *  time left and loss. */
export function jobLine(s) {
  if (s.status === "queued") {
    let line = `queued: ${s.position === 1 ? "next" : `${Math.max(0, s.position - 1)} ahead`}`;
    if (s.starts != null) line += `, starts in about ${roughly(s.starts)}`;
    if (s.eta != null) line += `, done in about ${roughly(s.eta)}`;
    return line;
  }
  return s.status + (s.total ? ` ${s.done}/${s.total}` : "") + (s.eta != null ? `, ${roughly(s.eta)} left` : "") +
    (s.loss != null ? `, loss ${s.loss.toPrecision(4)}` : "");
}

export async function fillSamples(panel, defaults) {
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

export const inputs = new Map();  // panel id + role -> Blob
const inputHooks = new Map();  // panel id -> (role, url) => void: what a tab does with a new input
export function onInput(panelId, hook) { inputHooks.set(panelId, hook); }
export async function setInput(panel, role, blobPromise, initial = false) {
  if (!blobPromise) return;
  const blob = await blobPromise;
  if (initial && inputs.has(`${panel.id}:${role}`)) return;  // the visitor chose meanwhile
  inputs.set(`${panel.id}:${role}`, blob);
  const url = URL.createObjectURL(blob);
  const img = panel.querySelector(`img.input[data-for="${role}"]`);
  if (img) img.src = url;
  const hook = inputHooks.get(panel.id);
  if (hook) hook(role, url);
}

export function field(panel, name) { return panel.querySelector(`[name="${name}"]`); }

export async function runJob(panel, url, form) {
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
      text.textContent = ""; finished({ kind: job.kind, status: "lost", id: job.id });
      break;
    }
    if (s.total) { bar.max = s.total; bar.value = s.done; }
    text.textContent = jobLine(s);
    if (s.curve && s.curve.train) drawCurve(panel.querySelector("canvas.curve"), s.curve);
    if (s.preview && s.preview !== shown) {
      shown = s.preview; preview.src = `/api/jobs/${job.id}/preview.png?v=${shown}`; jobStats.previews += 1;
    }
    if (["done", "error", "cancelled"].includes(s.status)) {
      if (s.status === "error") err.textContent = s.error;
      if (s.status === "done") { result.href = `/api/jobs/${job.id}/result.png`; result.hidden = false;
                                 if (s.size) result.textContent = `Download the result (${s.size[0]}x${s.size[1]} px, as computed)`;
                                 text.textContent = `done in ${s.seconds} s` + (s.loss != null ? `, loss ${s.loss.toPrecision(4)}` : ""); }
      finished({ kind: s.kind, status: s.status, id: s.id });
      break;
    }
  }
  cancel.disabled = true;
  panel.querySelectorAll(".run, .fill").forEach((b) => { b.disabled = false; });
}

export function drawCurve(cv, curve) {
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
