// Votes without a page reload; without JavaScript the same forms post and redirect back.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList.contains("vote")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) { form.submit(); return; }
  const result = await response.json();
  const count = form.querySelector(".count");
  count.textContent = String(Number(count.dataset.upstream) + result.votes);
  button.setAttribute("aria-pressed", result.voted ? "true" : "false");
});
