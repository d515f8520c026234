// The case form (/casus/nieuw, /casus/{id}/bewerken): the privacy gate as you type, autocomplete of
// labels, entity-linking suggestions and the duplicate check. The form works without this script;
// the server runs the same gate again on save.
(function () {
  "use strict";
  var form = document.querySelector("form.case-form");
  if (!form) return;
  var SEPARATOR = ";";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    });
  }

  // --- the privacy gate, per field -------------------------------------------------------------
  var NAMES = { "BSN": "een BSN", "IBAN": "een IBAN", "TELEFOON": "een telefoonnummer", "E-MAIL": "een e-mailadres",
    "ADRES": "een adres", "GEBOORTEDATUM": "een geboortedatum", "NAAM": "een naam" };

  function gate(field) {
    var out = document.getElementById(field.id + "-poort");
    if (!out) return;
    var text = field.value;
    if (!text.trim()) { show(field, out, []); return; }
    postJson("/api/check-text", { text: text }).then(function (answer) {
      if (field.value === text) show(field, out, answer.findings || []);
    }).catch(function () { /* the server checks again on save */ });
  }

  function show(field, out, findings) {
    if (!findings.length) {
      out.textContent = "";
      if (!field.dataset.serverError) field.removeAttribute("aria-invalid");
      return;
    }
    var parts = findings.map(function (f) { return (NAMES[f.kind] || f.kind) + " (" + f.masked + ")"; });
    out.textContent = "Persoonsgegevens gevonden: " + parts.join(", ") + ". Haal die weg; zo kan de casus niet worden opgeslagen.";
    field.setAttribute("aria-invalid", "true");
  }

  Array.prototype.forEach.call(form.querySelectorAll("[data-gate]"), function (field) {
    if (field.getAttribute("aria-invalid") === "true") field.dataset.serverError = "1";
    var check = debounce(gate, 350);
    field.addEventListener("input", function () { check(field); });
    if (field.value.trim()) gate(field);
  });

  // --- autocomplete of labels (the last ;-separated part) ---------------------------------------
  function complete(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var parts = input.value.split(SEPARATOR);
    var last = parts.pop().trim();
    if (!list || last.length < 2) return;
    var head = parts.map(function (p) { return p.trim(); }).filter(Boolean);
    var url = "/api/concepts?limit=10&kind=" + encodeURIComponent(input.dataset.concepts) + "&q=" + encodeURIComponent(last);
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (matches) {
        list.textContent = "";
        matches.forEach(function (m) {
          var option = document.createElement("option");
          option.value = head.concat([m.label]).join(SEPARATOR + " ");
          option.label = m.label;
          list.appendChild(option);
        });
      }).catch(function () {});
  }
  Array.prototype.forEach.call(form.querySelectorAll("[data-concepts]"), function (input) {
    var run = debounce(complete, 200);
    input.addEventListener("input", function () { run(input); });
  });

  // --- entity-linking suggestions and possible duplicates ---------------------------------------
  var suggestions = form.querySelector("[data-suggestions]");
  var suggestionList = form.querySelector("[data-suggestion-list]");
  var duplicates = form.querySelector("[data-duplicates]");
  var duplicateList = form.querySelector("[data-duplicate-list]");
  var helped = Array.prototype.slice.call(form.querySelectorAll("[data-help]"));

  function labelsOf(input) {
    return input.value.split(SEPARATOR).map(function (p) { return p.trim().toLowerCase(); }).filter(Boolean);
  }

  function addLabel(fieldName, label) {
    var input = document.getElementById(fieldName);
    if (!input || labelsOf(input).indexOf(label.toLowerCase()) >= 0) return;
    input.value = input.value.trim() ? input.value.replace(/[;\s]*$/, "") + SEPARATOR + " " + label : label;
  }

  function renderSuggestions(concepts) {
    suggestionList.textContent = "";
    var shown = concepts.filter(function (c) {
      var input = document.getElementById(c.field);
      return input && labelsOf(input).indexOf(c.label.toLowerCase()) < 0;
    });
    shown.forEach(function (c) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "chip";
      button.textContent = "+ " + c.label + " (" + c.kind.toLowerCase() + ")";
      button.setAttribute("aria-label", c.label + " toevoegen aan " + c.kind.toLowerCase());
      button.addEventListener("click", function () {
        addLabel(c.field, c.label);
        item.remove();
        if (!suggestionList.children.length) suggestions.hidden = true;
      });
      item.appendChild(button);
      suggestionList.appendChild(item);
    });
    suggestions.hidden = !shown.length;
  }

  function renderDuplicates(similar) {
    duplicateList.textContent = "";
    similar.forEach(function (s) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = s.url;
      link.textContent = s.title;
      link.target = "_blank";
      link.rel = "noopener";
      item.appendChild(link);
      if (typeof s.relevance === "number") {
        var score = document.createElement("span");
        score.className = "score";
        score.textContent = " overeenkomst " + s.relevance.toFixed(2).replace(".", ",");
        item.appendChild(document.createTextNode(" "));
        item.appendChild(score);
      }
      duplicateList.appendChild(item);
    });
    duplicates.hidden = !similar.length;
  }

  var help = debounce(function () {
    var text = helped.map(function (f) { return f.value; }).join("\n").trim();
    if (text.length < 20) return;
    postJson("/casus/hulp", { text: text, id: form.dataset.caseId || "" }).then(function (answer) {
      renderSuggestions(answer.concepts || []);
      renderDuplicates(answer.similar || []);
    }).catch(function () {});
  }, 700);
  helped.forEach(function (f) { f.addEventListener("input", help); });
  help();
})();
