// The search page: focus and announce the results, and warn about personal data while typing.
(function () {
  "use strict";

  // After a search, focus the results heading (Tab then reaches the first result), and say
  // how many results there are and how good the match is to screen readers.
  var heading = document.getElementById("resultaten-kop");
  var status = document.getElementById("zoek-status");
  if (heading) {
    heading.focus();
    if (status) {
      // filled after load, so screen readers announce the change of a live region
      window.setTimeout(function () { status.textContent = status.getAttribute("data-message"); }, 300);
    }
  }

  // While typing, ask the server's privacy gate (the same one the import uses) whether the
  // text looks like it holds personal data; the text is checked, never stored.
  var box = document.getElementById("q");
  var warning = document.getElementById("q-privacy");
  if (!box || !warning || !window.fetch) { return; }
  var timer = null;
  var asked = 0;

  function show(messages) {
    warning.textContent = "";
    messages.forEach(function (message) {
      var p = document.createElement("p");
      p.className = "notice warning";
      p.textContent = message;
      warning.appendChild(p);
    });
  }

  function check() {
    var text = box.value;
    var ticket = ++asked;
    if (!text.trim()) { show([]); return; }
    fetch("/api/check-text", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ text: text })
    }).then(function (response) {
      return response.ok ? response.json() : { warnings: [] };
    }).then(function (answer) {
      if (ticket === asked) { show(answer.warnings || []); }
    }).catch(function () { /* the warning is a help, the search works without it */ });
  }

  box.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 400);
  });
})();
