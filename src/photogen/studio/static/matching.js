// The Matching tab: a photo against the tiny-images database (Torralba et al. 2008).
import { field, fillSamples, finished, inputs } from "./common.js";

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
  if (res.partial && res.partial.length) {  // a cluster's part did not answer: say so
    const held = res.partial.map(([a, b]) => `${a.toLocaleString()}–${(b - 1).toLocaleString()}`).join(", ");
    err.textContent = `partial answer: the part of the database holding images ${held} did not reply (its worker has left the cluster); these neighbours are from the rest`;
  }
  finished({ kind: "match", status: "done" });
};
