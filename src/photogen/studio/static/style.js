// The Style tab: Gatys et al. 2016 as a job on a content photo and a style picture; and the
// fast mode: a network trained for one style answers at once, and the strength slider blends
// its picture with the photo in the page (no new request while it moves).
import { field, fillSamples, finished, inputs, runJob } from "./common.js";

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
fillSamples(style, { content: "chelsea", style: "starry_night" });

const fast = { styled: null, photo: null };
const canvas = style.querySelector("canvas.fast-out");
function drawFast() {
  if (!fast.styled || !fast.photo) return;
  canvas.width = fast.styled.naturalWidth; canvas.height = fast.styled.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.globalAlpha = 1; ctx.drawImage(fast.photo, 0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = field(style, "strength").value / 100; ctx.drawImage(fast.styled, 0, 0);
  window.studioFast = { strength: +field(style, "strength").value, drawn: (window.studioFast || { drawn: 0 }).drawn + 1 };
}
field(style, "strength").addEventListener("input", drawFast);
style.querySelector(".fast").onclick = async () => {
  const c = inputs.get("style:content"), err = style.querySelector(".error");
  if (!c) { err.textContent = "choose a content picture"; return; }
  err.textContent = "";
  const f = new FormData();
  f.append("content", c, "content.png"); f.append("model", field(style, "fast_model").value);
  const t0 = performance.now();
  const r = await fetch("/api/style/fast", { method: "POST", body: f });
  if (!r.ok) { err.textContent = (await r.json()).error; return; }
  const load = async (blob) => { const img = new Image(); img.src = URL.createObjectURL(blob); await img.decode(); return img; };
  fast.styled = await load(await r.blob()); fast.photo = await load(c);
  style.querySelector(".fast-figure").hidden = false;
  drawFast();
  style.querySelector(".fast-note").textContent = `${(performance.now() - t0).toFixed(0)} ms`;
  finished({ kind: "fast-style", status: "done" });
};
fetch("/api/style/fast-models").then((r) => r.json()).then((names) => {
  if (!names.length) return;
  const sel = field(style, "fast_model");
  for (const n of names) sel.add(new Option(n, n));
  style.querySelector(".fast-row").hidden = false;
});
