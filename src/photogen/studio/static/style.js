// The Style tab: Gatys et al. 2016 as a job on a content photo and a style picture.
import { field, fillSamples, inputs, runJob } from "./common.js";

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
