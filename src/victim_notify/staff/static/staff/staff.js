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
