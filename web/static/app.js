// carepath: progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  var csrf = document.body ? document.body.getAttribute("data-csrf") : null;

  // htmx requests carry the session's CSRF token like the forms do.
  document.addEventListener("htmx:configRequest", function (event) {
    if (csrf) { event.detail.headers["X-CSRF-Token"] = csrf; }
  });

  // Buttons with data-confirm ask before they submit (closing a case, revoking a token, ...).
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Task forms save a draft a few seconds after the last change (the "Concept opslaan" button does it at once).
  var form = document.querySelector("form[data-draft-url]");
  if (form && window.fetch && window.FormData) {
    var timer = null;
    var status = document.getElementById("draft-status");
    var save = function () {
      var data = new FormData(form);
      fetch(form.getAttribute("data-draft-url"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf || "", "HX-Request": "true" }
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (text) {
        if (text !== null && status) { status.textContent = text; }
      }).catch(function () { /* the explicit button still works */ });
    };
    form.addEventListener("input", function () {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(save, 4000);
    });
    form.addEventListener("submit", function () { if (timer) { window.clearTimeout(timer); } });
  }

  // Pathway editor: "regel N" puts the cursor on that line in the editable text, not in a read-only copy.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".jump-to-line") : null;
    var source = document.getElementById("source");
    if (!link || !source) { return; }
    event.preventDefault();
    var line = parseInt(link.getAttribute("data-line"), 10) || 1;
    var column = parseInt(link.getAttribute("data-column"), 10) || 1;
    var lines = source.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
    var length = (lines[line - 1] || "").length;
    source.focus();
    source.setSelectionRange(start + Math.min(column - 1, length), start + length);
    var height = parseFloat(window.getComputedStyle(source).lineHeight) || 18;
    source.scrollTop = Math.max(0, (line - 4) * height);
    source.scrollIntoView({block: "center"});
  });

  // After a failed submit, move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // An answer that ends the case or a problem area asks for confirmation: bring that question into view.
  var ending = document.getElementById("confirm-ending");
  if (ending && !summary) { ending.focus(); }
})();
