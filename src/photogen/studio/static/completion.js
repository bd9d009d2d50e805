import { field, fillSamples, inputs, onInput, runJob } from "./common.js";

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
onInput("pixelcnn", () => { pcnn.box = null; drawBoxPicker(); });
