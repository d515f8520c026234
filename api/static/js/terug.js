// "Terug naar resultaten" on a case page goes back in history when the page came from those
// results, so the list keeps its place; otherwise the link's own address (the same search) opens.
(function () {
  "use strict";
  var link = document.querySelector("a[data-terug]");
  if (!link) return;
  link.addEventListener("click", function (event) {
    if (document.referrer === link.href && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
