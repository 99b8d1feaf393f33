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

// Math in titles and abstracts ($...$), rendered from the page's text by the vendored KaTeX.
// KaTeX's defaults refuse \href, \url and raw HTML, so no text can become a link or a script.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof renderMathInElement !== "function") return;
  for (const element of document.querySelectorAll("h1, .item h2, .abstract, .abstract-lead, .snippet, .comment-body .math")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
      ],
      throwOnError: false,
      trust: false,
    });
  }
});
