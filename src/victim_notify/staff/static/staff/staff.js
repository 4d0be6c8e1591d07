// The staff app's few behaviours that need a script; no inline scripts anywhere (CSP).
"use strict";

document.addEventListener("change", (event) => {
  // <select data-submit-on-change>: the language chooser submits itself.
  if (event.target.matches("[data-submit-on-change]")) event.target.form.requestSubmit();
});

document.addEventListener("submit", (event) => {
  // <form data-confirm="Really?">: ask before an action that cannot be undone.
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// A table wider than the screen scrolls sideways inside its .table-wrap; keyboard users must
// be able to reach and scroll it too (WCAG 2.1.1), so a wrapper that scrolls becomes a named,
// focusable region.
function markScrollableTables(root) {
  root.querySelectorAll(".table-wrap").forEach((wrap) => {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      if (!wrap.hasAttribute("aria-label")) {
        const caption = wrap.querySelector("caption");
        const heading = wrap.closest("section")?.querySelector("h2, h3");
        wrap.setAttribute("aria-label", (caption || heading)?.textContent.trim() || "Table");
      }
    } else if (wrap.getAttribute("role") === "region") {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
    }
  });
}
document.addEventListener("DOMContentLoaded", () => markScrollableTables(document));
window.addEventListener("resize", () => markScrollableTables(document));
document.addEventListener("htmx:afterSwap", (event) => markScrollableTables(event.target));
