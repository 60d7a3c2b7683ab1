// hearth web UI: a little plain JavaScript on top of server-rendered pages (every page works
// without it). Text from the server is only ever set with textContent, never as HTML: imported
// history is hostile input.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Pickers (companion / conversation) open what was picked at once.
function initPickers() {
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => {
        const conv = form.querySelector('select[name="conversation"]');
        if (select.name === "companion" && conv) conv.value = "";
        form.requestSubmit();
      });
    }
  }
}

// Warmth sliders name their band as they move.
function initWarmth() {
  for (const range of document.querySelectorAll('input[type="range"][data-bands]')) {
    const bands = JSON.parse(range.dataset.bands);
    const out = range.parentElement.querySelector("output");
    const show = () => { if (out) out.textContent = `${range.value} · ${bands[Number(range.value)]}`; };
    range.addEventListener("input", show);
    show();
  }
}

// Server-sent events from a fetch body: yields {event, data} as they arrive.
async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of raw.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      yield { event, data: data.length ? JSON.parse(data.join("\n")) : null };
    }
  }
}

function answeredLine(answered) {
  const line = el("div", "answered" + (answered.flagged ? " flagged" : ""), answered.label);
  if (answered.note) line.append(el("span", "note", ` — ${answered.note}`));
  return line;
}

function addMessage(list, role, who, text) {
  document.getElementById("empty")?.remove();
  const item = el("li", `msg ${role}`);
  item.append(el("div", "meta", `${who} · now`), el("div", "text", text));
  list.append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

// Thumbs and "answer again" under a streamed reply: the page's own forms, for this message.
function addActions(list, reply, messageId) {
  const template = document.getElementById("reply-actions");
  if (!template) return;
  for (const old of list.querySelectorAll(".again")) old.remove();  // only the newest reply is answered again
  const actions = template.content.firstElementChild.cloneNode(true);
  for (const input of actions.querySelectorAll('input[name="message"]')) input.value = messageId;
  reply.append(actions);
}

// Chat: send with fetch, read the reply as it streams, then show who answered.
function initChat() {
  const form = document.getElementById("compose");
  const list = document.getElementById("messages");
  if (!form || !list) return;
  const status = form.querySelector(".status");
  const button = form.querySelector('button[type="submit"]');
  form.text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = form.text.value.trim();
    if (!text) return;
    button.disabled = true;
    status.textContent = "";
    addMessage(list, "user", "you", text);
    const reply = addMessage(list, "assistant", list.dataset.companionName || "", "");
    reply.classList.add("streaming");
    const body = reply.querySelector(".text");
    form.text.value = "";
    try {
      const response = await fetch(form.dataset.stream, {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": csrf(), accept: "text/event-stream" },
        body: JSON.stringify({
          companion: form.companion.value, conversation: form.conversation.value || null, text,
          warmth: form.warmth ? form.warmth.value : null,
        }),
      });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({ error: response.statusText }));
        throw new Error([problem.error || "The message could not be sent.", problem.hint].filter(Boolean).join(" "));
      }
      if (!(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
        throw new Error("You are signed out (the session ended). Reload the page and sign in again.");
      }
      for await (const { event, data } of sseEvents(response)) {
        if (event === "start") {
          form.conversation.value = data.conversation_id;
          history.replaceState(null, "", `/chat?conversation=${data.conversation_id}`);
        } else if (event === "delta") {
          body.textContent += data.text;
          reply.scrollIntoView({ block: "end" });
        } else if (event === "done") {
          if (data.message_id) reply.id = `m${data.message_id}`;
          reply.append(answeredLine(data.answered));
          if (data.message_id) addActions(list, reply, data.message_id);
        } else if (event === "error") {
          reply.classList.add("failed");
          if (!body.textContent) body.textContent = data.message;
          else reply.append(el("div", "alert", data.message));
          if (data.answered) reply.append(answeredLine(data.answered));
        }
      }
    } catch (err) {
      reply.classList.add("failed");
      body.textContent = err.message;
      if (!form.text.value) form.text.value = text;
    } finally {
      reply.classList.remove("streaming");
      button.disabled = false;
      form.text.focus();
    }
  });
}

function human(size) {
  for (const [unit, div] of [["GB", 2 ** 30], ["MB", 2 ** 20], ["KB", 2 ** 10]]) {
    if (size >= div) return `${(size / div).toFixed(1)} ${unit}`;
  }
  return `${size} bytes`;
}

// Import: refuse an upload over the limit before sending it, show upload progress, then go to the job.
function initUpload() {
  const form = document.getElementById("upload");
  if (!form) return;
  const bar = form.querySelector("progress");
  const status = form.querySelector(".status");
  const refuse = (text) => { status.textContent = text; status.classList.add("alert"); };
  form.addEventListener("submit", (e) => {
    status.classList.remove("alert");
    e.preventDefault();
    const files = [...form.querySelectorAll('input[type="file"]')].flatMap((input) => [...input.files]);
    if (!files.length) { refuse("Pick export files or a folder first."); return; }
    const size = files.reduce((sum, f) => sum + f.size, 0);
    if (size > Number(form.dataset.limit)) {
      refuse(`That is ${human(size)}, over the upload limit of ${form.dataset.limitText}. ` +
        "Import it from the command line instead: hearth import PATH");
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("x-csrf-token", csrf());
    xhr.setRequestHeader("accept", "application/json");
    bar.hidden = false;
    xhr.upload.addEventListener("progress", (p) => {
      if (p.lengthComputable) bar.value = (100 * p.loaded) / p.total;
      status.textContent = `Uploading… ${human(p.loaded)} of ${human(p.total)}`;
    });
    xhr.addEventListener("load", () => {
      let answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch { /* an HTML error page */ }
      if (xhr.status === 200 && answer.url) location.assign(answer.url);
      else refuse(answer.error ? `${answer.error} ${answer.hint || ""}` : `Upload failed (${xhr.status}).`);
    });
    xhr.addEventListener("error", () => refuse("The upload was cut off."));
    xhr.send(new FormData(form));
  });
}

// Import job: poll its status until it is done, then show the summary the server renders.
function initJob() {
  const box = document.getElementById("job");
  if (!box || box.dataset.state !== "running") return;
  const bar = document.getElementById("job-progress");
  const status = document.getElementById("job-status");
  const poll = async () => {
    const response = await fetch(box.dataset.status, { credentials: "same-origin" });
    if (!response.ok) { status.textContent = "Lost track of the import; reload the page."; return; }
    const job = await response.json();
    if (job.state !== "running") { location.reload(); return; }
    const [done, total] = job.phase === "checking" ? [job.hashed, job.hash_total] : [job.read, job.read_total];
    bar.value = total ? (100 * done) / total : 0;
    status.textContent = job.phase === "memories" ? "Finding memories…" :
      `${job.phase === "checking" ? "Checking" : "Importing"}… ${human(done)} of ${human(total)}, ` +
      `${job.conversations.toLocaleString()} conversations`;
    setTimeout(poll, 400);
  };
  poll();
}

// Backends: test a connection in place.
function initBackends() {
  for (const form of document.querySelectorAll("form.test-backend")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = form.name.value;
      const out = [...document.querySelectorAll(".test-result")].find((n) => n.dataset.for === name);
      out.textContent = "Testing…";
      const response = await fetch(form.action, {
        method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form)),
        headers: { accept: "application/json", "x-csrf-token": csrf() },
      });
      const r = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
      out.textContent = "";
      if (r.ok) {
        out.append(el("span", "ok", `Connected in ${r.seconds} s. `),
          `Asked for ${r.requested}; answered by `,
          el("span", r.verification === "verified" ? "" : "bad", r.served),
          ` (${r.verification}: ${r.reason}).`);
        if (r.listed) out.append(el("span", "muted", ` The server lists: ${r.listed.slice(0, 10).join(", ") || "nothing"}.`));
      } else {
        out.append(el("span", "bad", r.error || "Failed."), r.hint ? ` — ${r.hint}` : "");
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  initPickers();
  initWarmth();
  initChat();
  initUpload();
  initJob();
  initBackends();
});
