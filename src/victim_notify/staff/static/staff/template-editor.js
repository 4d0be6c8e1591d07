// Live character counts beside the fields of the configuration pages. The template preview
// itself is htmx (hx-post on the editor's form); nothing here is needed for it.
"use strict";

document.addEventListener("input", (event) => {
  const field = event.target;
  if (!field.id) return;
  const count = document.querySelector(`[data-count-for="${CSS.escape(field.id)}"]`);
  if (!count) return;
  const length = field.value.replace(/\r\n/g, "\n").length;
  count.textContent = String(length);
  const limit = Number(count.dataset.limit || 0);
  count.classList.toggle("over-limit", limit > 0 && length > limit);
});
