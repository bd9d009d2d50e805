// The Texture tab: Gatys or a classical method on a picture; Efros-Leung fills painted holes.
import { field, fillSamples, inputs, onInput, runJob } from "./common.js";

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
onInput("texture", (role, url) => drawHoles(texture, url));
fillSamples(texture, { source: "gravel" });
