"use strict";
// Shared by the console's pages: JSON requests, and server-sent events read from a POST's streamed body.

async function readJSON(response) {
  try {
    return await response.json();
  } catch (error) {
    return { error: `The console answered ${response.status} without a message.` };
  }
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return { ok: response.ok, status: response.status, data: await readJSON(response) };
}

// POST, then hand each server-sent event (name, parsed data) to onEvent as it arrives.
async function streamEvents(url, body, onEvent) {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
  });
  if (!response.ok) return { ok: false, status: response.status, data: await readJSON(response) };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      dispatch(block, onEvent);
    }
  }
  return { ok: true, status: response.status, data: {} };
}

function dispatch(block, onEvent) {
  let name = "message";
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length) onEvent(name, JSON.parse(data.join("\n")));
}

function showNotice(element, message) {
  element.textContent = message;
  element.hidden = !message;
}
