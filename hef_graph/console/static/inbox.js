"use strict";
// The reviewer's inbox: the list arrives by server-sent events; a card being read is kept as it is.

const inbox = document.getElementById("inbox");
const badge = document.getElementById("inbox-count");
const mine = new Set(); // pauses this page answered

function since(element) {
  const epoch = Number(element.dataset.epoch);
  if (epoch) element.textContent = new Date(epoch * 1000).toLocaleTimeString();
}

function merge(html) {
  const fresh = document.createElement("template");
  fresh.innerHTML = html;
  const shown = new Map([...inbox.querySelectorAll(".pause")].map((card) => [card.dataset.pause, card]));
  const next = [...fresh.content.children].map((card) => shown.get(card.dataset.pause) || card);
  const listed = new Set(next.map((card) => card.dataset.pause));
  for (const [pause, card] of shown) {
    if (listed.has(pause) || card.classList.contains("gone")) continue;
    if (!mine.has(pause)) markGone(card, "Already answered by another reviewer (or in another window): nothing was sent from here.");
    next.push(card);
  }
  inbox.replaceChildren(...next.filter((card) => !(card.id === "inbox-empty" && next.length > 1)));
  inbox.querySelectorAll("time").forEach(since);
}

function markGone(card, message) {
  card.classList.add("gone");
  card.querySelectorAll("button, textarea").forEach((element) => { element.disabled = true; });
  card.querySelector(".result").textContent = message;
}

async function answer(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const card = button.closest(".pause");
  const action = button.dataset.action;
  const text = card.querySelector(".reply-text").value;
  if (action === "edit" && !text.trim()) {
    card.querySelector(".result").textContent = "Write the reply to send first.";
    return;
  }
  const reply = action === "edit" || (action === "hand_back" && text.trim()) ? text : null;
  card.querySelectorAll("button").forEach((element) => { element.disabled = true; });
  mine.add(card.dataset.pause); // in flight: a list update meanwhile must not call it answered elsewhere
  const result = await postJSON("/api/inbox/resume",
    { thread_id: card.dataset.thread, pause_id: card.dataset.pause, action, reply });
  if (result.ok) {
    markGone(card, action === "take_over" ? "You took this conversation over: its next turns come here." : "Sent.");
    card.classList.add("answered");
  } else if (result.status === 409) {
    markGone(card, result.data.error);
  } else {
    mine.delete(card.dataset.pause);
    card.querySelector(".result").textContent = result.data.error;
    card.querySelectorAll("button").forEach((element) => { element.disabled = false; });
  }
}

inbox.addEventListener("click", answer);
inbox.querySelectorAll("time").forEach(since);
const source = new EventSource("/inbox/events");
source.addEventListener("inbox", (event) => {
  const data = JSON.parse(event.data);
  badge.textContent = data.count;
  merge(data.html);
});
source.addEventListener("fault", (event) => {
  inbox.insertAdjacentHTML("afterbegin", '<p class="notice" role="alert"></p>');
  inbox.firstChild.textContent = event.data;
  source.close();
});
