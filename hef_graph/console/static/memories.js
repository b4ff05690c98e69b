"use strict";
// The person's memories: forget one, or (on a second click) everything.

const notice = document.getElementById("notice");

async function forget(key) {
  const result = await postJSON("/api/memories/forget", { key });
  if (!result.ok) showNotice(notice, result.data.error);
  return result.ok;
}

document.querySelectorAll("button.forget").forEach((button) => button.addEventListener("click", async () => {
  if (await forget(button.dataset.key)) button.closest("tr").remove();
}));

const all = document.getElementById("forget-all");
all?.addEventListener("click", async () => {
  if (!all.dataset.sure) {
    all.dataset.sure = "yes";
    all.textContent = "Click again to forget everything";
    return;
  }
  if (await forget(null)) window.location.reload();
});
