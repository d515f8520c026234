// Small conveniences for every page; the pages work without them.
(function () {
  "use strict";
  // Ctrl+Enter (or Cmd+Enter) in the situation box submits the search, as in most editors.
  var box = document.getElementById("q");
  if (box && box.form) {
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        box.form.requestSubmit();
      }
    });
  }
})();
