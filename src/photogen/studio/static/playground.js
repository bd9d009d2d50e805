// The Playground tab: the lecture's MLP trained in numpy, regions and loss curves as it learns.
import { field, runJob, showValues } from "./common.js";

const playground = document.getElementById("playground");
showValues(playground);
playground.querySelector(".run").onclick = () => {
  const f = new FormData();
  for (const n of ["dataset", "noise", "hidden", "activation", "lr", "l2", "epochs", "seed"]) f.append(n, field(playground, n).value);
  runJob(playground, "/api/jobs/playground", f);
};
