"use strict";
// The chat page: send a message, stream the reply into the page, then swap in the finished turn with its trace.

const pollMs = Number(document.currentScript.dataset.poll || 1000);
const box = document.getElementById("thread-box");
const form = document.getElementById("composer");
const input = document.getElementById("message");
const notice = document.getElementById("notice");
const count = document.getElementById("count");
const maxChars = input ? Number(input.dataset.max) : 0;
window.hefTimings = []; // per turn: ms between the LLM's first token and its appearance on this page
let poller = null;

function turns() { return document.getElementById("turns"); }

function updateCount() {
  count.textContent = `${input.value.length} / ${maxChars}`;
  count.classList.toggle("over", input.value.length > maxChars);
}

function pendingRow(text) {
  const row = document.createElement("div");
  row.className = "turn-row pending";
  row.innerHTML = '<div class="messages"><p class="bubble person"></p><p class="bubble reply streaming"></p>' +
    '<p class="steps"></p></div>';
  row.querySelector(".person").textContent = text;
  turns().appendChild(row);
  row.scrollIntoView({ block: "end" });
  return row;
}

function handler(row) {
  const reply = row.querySelector(".reply");
  const steps = row.querySelector(".steps");
  let first = true;
  return (name, data) => {
    if (name === "thread") {
      turns().dataset.thread = data.thread_id;
      history.replaceState(null, "", `/threads/${data.thread_id}`);
    } else if (name === "token") {
      reply.textContent += data.text;
      if (first) {
        first = false;
        const lag = performance.timeOrigin + performance.now() - data.t;
        window.hefTimings.push(lag);
      }
    } else if (name === "step") {
      steps.textContent += `${steps.textContent ? " → " : ""}${data.node}${data.ms === null ? "" : ` ${data.ms} ms`}`;
    } else if (name === "error") {
      showNotice(notice, data.message);
    }
  };
}

async function run(url, body, row) {
  const sendButton = document.getElementById("send");
  sendButton.disabled = true;
  try {
    const result = await streamEvents(url, body, handler(row));
    if (!result.ok) {
      row.remove();
      showNotice(notice, result.data.error);
      return false;
    }
    await refresh();
    return true;
  } catch (error) {
    showNotice(notice, `The console could not be reached (${error.message}). Reload the page: what was sent is kept.`);
    return false;
  } finally {
    sendButton.disabled = false;
  }
}

async function send(event) {
  event.preventDefault();
  const text = input.value;
  if (!text.trim()) return showNotice(notice, "Write a message first: an empty one is not sent.");
  if (text.length > maxChars) {
    return showNotice(notice, `Your message is ${text.length} characters; the limit is ${maxChars}. Shorten it: nothing was sent.`);
  }
  showNotice(notice, "");
  const body = { thread_id: turns().dataset.thread || null, text, version: turns().dataset.version };
  const row = pendingRow(text);
  input.value = "";
  updateCount();
  const sent = await run("/api/turns", body, row);
  if (!sent && !input.value) input.value = text; // refused: the words stay in the box
  updateCount();
}

async function refresh() {
  const id = turns().dataset.thread;
  if (!id) return;
  const response = await fetch(`/api/threads/${id}/view`);
  if (!response.ok) return showNotice(notice, (await readJSON(response)).error);
  box.innerHTML = await response.text();
  addToList(id);
  wire();
}

function addToList(id) {
  const list = document.getElementById("thread-list");
  if (list.querySelector(`a[href="/threads/${id}"]`)) return;
  list.querySelector(".empty")?.remove();
  const item = document.createElement("li");
  item.className = "current";
  item.innerHTML = `<a href="/threads/${id}"></a>`;
  item.firstChild.textContent = document.querySelector("#turns .person")?.textContent.slice(0, 60) || id;
  list.prepend(item);
}

async function retry() {
  showNotice(notice, "");
  const row = pendingRow("(retrying)");
  await run(`/api/threads/${turns().dataset.thread}/retry`, { version: turns().dataset.version }, row);
}

// While a reviewer has the turn, look for their answer; swap it in when the thread changes.
function watch() {
  clearInterval(poller);
  if (!turns().dataset.waiting) return;
  const version = turns().dataset.version;
  poller = setInterval(async () => {
    const response = await fetch(`/api/threads/${turns().dataset.thread}/status`);
    if (response.ok && (await response.json()).version !== version) {
      clearInterval(poller);
      await refresh();
    }
  }, pollMs);
}

function wire() {
  document.getElementById("retry")?.addEventListener("click", retry);
  watch();
}

if (form) {
  form.addEventListener("submit", send);
  input.addEventListener("input", updateCount);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) send(event);
  });
  wire();
  updateCount();
}
