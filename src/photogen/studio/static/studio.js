// photogen studio: the page's entry module. Each tab's code is a module of its own (no build
// step: the browser loads them as ES modules); this one only says which run.
import "./tabs.js";
import "./sketch.js";
import "./style.js";
import "./texture.js";
import "./dream.js";
import "./colorize.js";
import "./completion.js";
import "./matching.js";
import "./playground.js";
import "./history.js";
