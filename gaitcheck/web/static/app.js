// gaitcheck web pages: upload with progress, live job status, report height. No build step.
"use strict";

function $(sel) { return document.querySelector(sel); }

function humanSize(bytes) {
  if (bytes >= 1 << 30) return (bytes / (1 << 30)).toFixed(2) + " GiB";
  return (bytes / (1 << 20)).toFixed(1) + " MiB";
}

function setupUpload() {
  const form = $("#upload-form");
  if (!form) return;
  const input = $("#video"), camera = $("#camera"), drop = $("#drop"), chosen = $("#chosen");
  const error = $("#upload-error"), box = $("#upload-progress"), submit = $("#submit");
  let file = null;

  function choose(f) {
    file = f || null;
    chosen.textContent = file ? file.name + " (" + humanSize(file.size) + ")" : "No video chosen.";
    input.required = !file;
  }
  input.addEventListener("change", () => choose(input.files[0]));
  camera.addEventListener("change", () => choose(camera.files[0]));
  ["dragenter", "dragover"].forEach(t => drop.addEventListener(t, e => {
    e.preventDefault(); drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach(t => drop.addEventListener(t, e => {
    e.preventDefault(); drop.classList.remove("over");
  }));
  drop.addEventListener("drop", e => {
    if (e.dataTransfer && e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
  });
  const slowmo = $("#slowmo"), fps = $("#capture-fps");
  slowmo.addEventListener("change", () => { fps.required = slowmo.checked; });
  fps.addEventListener("input", () => { if (fps.value) slowmo.checked = true; });

  form.addEventListener("submit", e => {
    e.preventDefault();
    error.hidden = true;
    if (!file) { error.textContent = "Choose or film a video first."; error.hidden = false; return; }
    const data = new FormData(form);
    data.delete("video");
    data.append("video", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload");
    xhr.setRequestHeader("Accept", "application/json");
    box.hidden = false; submit.disabled = true;
    const bar = box.querySelector(".bar"), label = box.querySelector(".label");
    xhr.upload.addEventListener("progress", ev => {
      if (!ev.lengthComputable) return;
      const pct = 100 * ev.loaded / ev.total;
      bar.style.width = pct.toFixed(1) + "%";
      label.textContent = pct < 100 ? "uploading " + pct.toFixed(0) + "%" : "checking the video";
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300 && body.url) {
        window.location.assign(body.url);
        return;
      }
      box.hidden = true; submit.disabled = false;
      error.textContent = body.error || ("The upload failed (HTTP " + xhr.status + ").");
      error.hidden = false;
      error.scrollIntoView({block: "nearest"});
    });
    xhr.addEventListener("error", () => {
      box.hidden = true; submit.disabled = false;
      error.textContent = "The upload was interrupted; check the connection and try again.";
      error.hidden = false;
    });
    xhr.send(data);
  });
}

function setupJob() {
  const box = $("#job");
  if (!box) return;
  const id = box.dataset.session;
  const state = $("#job-state"), bar = box.querySelector(".progress .bar"), err = $("#job-error");
  const steps = Array.from(document.querySelectorAll("#stages li"));
  const progress = box.querySelector(".progress");

  function show(s) {
    box.dataset.state = s.state;
    bar.style.width = (100 * s.progress).toFixed(1) + "%";
    progress.classList.toggle("busy", s.state === "running");
    steps.forEach((li, i) => { li.className = i < s.step ? "past" : i === s.step ? "now" : ""; });
    if (s.state === "queued") {
      state.textContent = "Waiting for the analysis to start" +
        (s.queue_position ? " (" + s.queue_position + " ahead)." : ".");
    } else if (s.state === "running") {
      state.textContent = "Working: " + s.stage_label + ".";
    } else if (s.state === "done") {
      state.textContent = "Done.";
      window.location.assign(s.session_url);
    } else {
      state.textContent = "The video could not be analysed.";
      err.textContent = s.error || "";
      err.hidden = !s.error;
    }
  }

  function poll() {
    fetch("/api/jobs/" + id, {headers: {"Accept": "application/json"}})
      .then(r => r.ok ? r.json() : Promise.reject(r.status))
      .then(s => { show(s); if (s.state === "queued" || s.state === "running") setTimeout(poll, 1000); })
      .catch(() => setTimeout(poll, 3000));
  }
  if (box.dataset.state === "queued" || box.dataset.state === "running") poll();
}

function setupSession() {
  const frame = $("#report");
  if (frame) {
    // Same origin: grow the frame to its content so the page scrolls as one.
    frame.addEventListener("load", () => {
      try {
        const doc = frame.contentDocument;
        frame.style.height = (doc.documentElement.scrollHeight + 20) + "px";
      } catch (err) { /* keep the default height */ }
    });
  }
  const del = $("#delete-form");
  if (del) del.addEventListener("submit", e => {
    if (!window.confirm("Delete this session and its video from the server?")) e.preventDefault();
  });
}

document.addEventListener("DOMContentLoaded", () => { setupUpload(); setupJob(); setupSession(); });
