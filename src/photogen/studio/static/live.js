// photogen studio: the Live tab ("Learning to See"). The camera starts only on "Start". One
// frame is in flight at a time: when its answer arrives, the newest camera picture is sent, so
// frames the model has no time for are skipped, never queued. window.studioLive holds the
// measured camera-to-screen latencies (ms) and the frames shown, for tests.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const video = $("live-video"), inImg = $("live-in"), outImg = $("live-out");
  const statsEl = $("live-stats"), errorEl = $("live-error");
  const grab = document.createElement("canvas");
  grab.width = grab.height = 256;
  const gctx = grab.getContext("2d");
  const live = (window.studioLive = { latencies: [], shown: 0, times: [], errors: [], running: false });
  let ws = null, stream = null, nextId = 1, inFlight = null;

  async function init() {
    const info = await (await fetch("/api/live/info")).json();
    const select = $("live-model");
    for (const m of info.models) {
      const o = document.createElement("option");
      o.value = m.name; o.textContent = m.label || m.name; select.appendChild(o);
    }
    live.engine = info.engine;
  }

  function percentile(values, p) {
    const s = [...values].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(p * s.length))];
  }

  function sendNewest() {
    if (!live.running || inFlight || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (video.readyState < 2) { setTimeout(sendNewest, 30); return; }
    const side = Math.min(video.videoWidth, video.videoHeight);
    const sx = (video.videoWidth - side) / 2, sy = (video.videoHeight - side) / 2;
    gctx.drawImage(video, sx, sy, side, side, 0, 0, 256, 256);
    inFlight = { id: nextId++, at: performance.now() };
    const jpeg = grab.toDataURL("image/jpeg", 0.85).split(",")[1];
    ws.send(JSON.stringify({ id: inFlight.id, model: $("live-model").value,
                             transform: $("live-transform").value,
                             smooth: $("live-smooth").checked, jpeg }));
  }

  function onReply(event) {
    const reply = JSON.parse(event.data);
    const sent = inFlight;
    inFlight = null;
    if (reply.error) { errorEl.textContent = reply.error; live.errors.push(reply.error); }
    else {
      errorEl.textContent = "";
      inImg.src = `data:image/jpeg;base64,${reply.input}`;
      outImg.src = `data:image/jpeg;base64,${reply.output}`;
      outImg.decode().catch(() => {}).then(() => {
        const now = performance.now();
        if (sent && sent.id === reply.id) live.latencies.push(now - sent.at);
        live.shown += 1;
        live.times.push(now);
        while (live.times.length && now - live.times[0] > 2000) live.times.shift();
        const fps = live.times.length > 1 ? (live.times.length - 1) / ((now - live.times[0]) / 1000) : 0;
        live.fps = fps;
        const l = live.latencies.slice(-50);
        statsEl.textContent = `${fps.toFixed(1)} frames/s, camera to screen ${percentile(l, 0.5).toFixed(0)} ms ` +
          `(p50 of the last ${l.length}), network ${reply.ms} ms, ${reply.dropped || 0} frames skipped, engine ${live.engine}`;
      });
    }
    sendNewest();
  }

  async function start() {
    errorEl.textContent = "";
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (e) {
      errorEl.textContent = `no camera: ${e.message || e.name}`;
      return;
    }
    video.srcObject = stream;
    await video.play();
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/live`);
    ws.onmessage = onReply;
    ws.onopen = () => { live.running = true; sendNewest(); };
    ws.onclose = () => { live.running = false; inFlight = null; };
    $("live-start").disabled = true;
    $("live-stop").disabled = false;
  }

  function stop() {
    live.running = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    if (ws) ws.close();
    ws = null;
    $("live-start").disabled = false;
    $("live-stop").disabled = true;
  }

  $("live-start").onclick = start;
  $("live-stop").onclick = stop;
  init();
})();
