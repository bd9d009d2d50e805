// The Dream tab: DeepDream as a job on a photo (optionally towards a guide picture), with the
// layer chosen among the network's own names.
import { field, fillSamples, inputs, runJob } from "./common.js";

const dream = document.getElementById("dream");
dream.querySelector(".run").onclick = () => {
  const photo = inputs.get("dream:photo");
  if (!photo) { dream.querySelector(".error").textContent = "choose a photo"; return; }
  const f = new FormData();
  f.append("photo", photo, "photo.png");
  const guide = inputs.get("dream:guide");
  if (guide) f.append("guide", guide, "guide.png");
  for (const n of ["layer", "size", "octaves", "steps", "seed"]) f.append(n, field(dream, n).value);
  runJob(dream, "/api/jobs/dream", f);
};
fillSamples(dream, { photo: "coffee" });
dream.querySelector('select.sample[data-for="guide"]').addEventListener("change", (e) => {
  if (!e.target.value) { inputs.delete("dream:guide"); dream.querySelector('img.input[data-for="guide"]').removeAttribute("src"); }
});
fetch("/api/dream/layers").then((r) => r.json()).then(({ layers, default: chosen }) => {
  const sel = field(dream, "layer");
  for (const n of layers) sel.add(new Option(n === chosen ? `${n} (default)` : n, n));
  sel.value = chosen;
});
