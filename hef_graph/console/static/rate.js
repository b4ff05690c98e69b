"use strict";
// A rater's page: one dialogue at a time, replies ranked 1 (best) to n, ties allowed; saved on every answer.

const root = document.getElementById("rate");
const packet = encodeURIComponent(root.dataset.packet);
const item = document.getElementById("item");
const progress = document.getElementById("progress");
const notice = document.getElementById("notice");
const finished = document.getElementById("finished");
let dialogues = [];
let saved = {}; // dialogue number -> {letter: rank}
let index = 0;
let current = {};
let picked = null;

async function load() {
  const response = await fetch(`/api/rate/${packet}`);
  const data = await readJSON(response);
  if (!response.ok) return showNotice(notice, data.error);
  dialogues = data.dialogues;
  saved = data.ranks;
  const open = dialogues.findIndex((dialogue) => !saved[dialogue.number]);
  index = open >= 0 ? open : dialogues.length - 1;
  show();
}

function show() {
  const dialogue = dialogues[index];
  current = { ...(saved[dialogue.number] || {}) };
  picked = null;
  const done = Object.keys(saved).length;
  progress.textContent = `Dialogue ${index + 1} of ${dialogues.length} · ${done} ranked`;
  finished.hidden = done < dialogues.length;
  showNotice(notice, "");
  item.replaceChildren(turnsOf(dialogue), repliesOf(dialogue));
  paint();
  document.getElementById("back").disabled = index === 0;
}

function turnsOf(dialogue) {
  const block = document.createElement("div");
  block.className = "dialogue";
  for (const [role, text] of dialogue.turns) {
    const line = document.createElement("p");
    line.className = `bubble ${role === "Speaker" ? "person" : "reply"}`;
    line.textContent = `${role}: ${text}`;
    block.appendChild(line);
  }
  return block;
}

function repliesOf(dialogue) {
  const block = document.createElement("div");
  block.className = "replies";
  const count = dialogue.replies.length;
  for (const [letter, text] of dialogue.replies) {
    const card = document.createElement("div");
    card.className = "reply-card";
    card.dataset.letter = letter;
    card.innerHTML = `<b class="letter">${letter}</b><p class="text"></p><div class="ranks"></div>`;
    card.querySelector(".text").textContent = text;
    for (let rank = 1; rank <= count; rank += 1) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "rank";
      button.dataset.rank = rank;
      button.textContent = rank;
      button.setAttribute("aria-label", `rank reply ${letter} ${rank}`);
      button.addEventListener("click", () => setRank(letter, rank));
      card.querySelector(".ranks").appendChild(button);
    }
    card.addEventListener("click", () => pick(letter));
    block.appendChild(card);
  }
  return block;
}

function pick(letter) {
  picked = letter;
  paint();
}

function setRank(letter, rank) {
  current[letter] = rank;
  picked = letter;
  paint();
}

function paint() {
  for (const card of item.querySelectorAll(".reply-card")) {
    card.classList.toggle("picked", card.dataset.letter === picked);
    for (const button of card.querySelectorAll(".rank")) {
      button.setAttribute("aria-pressed", String(current[card.dataset.letter] === Number(button.dataset.rank)));
    }
  }
}

async function next() {
  const dialogue = dialogues[index];
  const missing = dialogue.replies.map(([letter]) => letter).filter((letter) => !current[letter]);
  if (missing.length) return showNotice(notice, `Rank every reply first: ${missing.join(", ")} has no rank yet.`);
  const result = await postJSON(`/api/rate/${packet}/${dialogue.number}`, { ranks: current });
  if (!result.ok) return showNotice(notice, result.data.error);
  saved[dialogue.number] = { ...current };
  const open = dialogues.findIndex((other) => !saved[other.number]);
  index = open >= 0 ? (index + 1 < dialogues.length && !saved[dialogues[index + 1].number] ? index + 1 : open) : index;
  show();
}

function back() {
  if (index > 0) {
    index -= 1;
    show();
  }
}

document.getElementById("next").addEventListener("click", next);
document.getElementById("back").addEventListener("click", back);
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  const letters = dialogues[index]?.replies.map(([letter]) => letter) || [];
  const key = event.key;
  if (/^[a-h]$/i.test(key) && letters.includes(key.toUpperCase())) pick(key.toUpperCase());
  else if (/^[1-8]$/.test(key) && picked && Number(key) <= letters.length) setRank(picked, Number(key));
  else if (key === "Enter") next();
  else if (key === "ArrowLeft" || key === "Backspace") back();
  else return;
  event.preventDefault();
});
load();
