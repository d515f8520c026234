// Sends "nuttig / niet nuttig / dit is de casus die ik zocht" for a search result to POST /api/feedback.
// The buttons come from the feedback_buttons macro (api/templates/_feedback.html): one vote per result per page view.
(function () {
  "use strict";
  var THANKS = "Dank u, uw feedback is opgeslagen.";
  var NO_TEXT = "Dank u. Uw zoekvraag bevatte persoonsgegevens; alleen uw stem is bewaard.";
  var FAILED = "Uw feedback kon niet worden opgeslagen. Probeer het later opnieuw.";

  function send(box, button) {
    var buttons = box.querySelectorAll("button[data-vote]");
    var status = box.querySelector(".feedback-status");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch("/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({
        query: box.getAttribute("data-feedback-query") || "",
        case_id: box.getAttribute("data-feedback-case"),
        vote: button.getAttribute("data-vote")
      })
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (answer) {
      button.setAttribute("aria-pressed", "true");
      status.textContent = answer.query_bewaard ? THANKS : NO_TEXT;
    }).catch(function () {
      buttons.forEach(function (b) { b.disabled = false; });
      status.textContent = FAILED;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".feedback button[data-vote]");
    if (button) send(button.closest(".feedback"), button);
  });
})();
