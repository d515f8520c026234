// YASGUI pointed at this server's read-only /sparql endpoint, with the example queries as buttons.
(function () {
  "use strict";
  var root = document.getElementById("yasgui");
  if (!root || !window.Yasgui) return;
  var Yasgui = window.Yasgui.default || window.Yasgui;
  var examples = JSON.parse(document.getElementById("sparql-voorbeelden").textContent);
  var start = JSON.parse(document.getElementById("sparql-begin").textContent);
  var status = document.getElementById("sparql-status");
  var endpoint = window.location.origin + "/sparql";
  var ID = "https://w3id.org/maatwerk/id/";
  var current = ""; // the example being shown, for the status line

  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    populateFromUrl: false, // the server hands over ?vraag= (see openFromUrl); YASGUI's URL format is not used
    autofocus: false,
    persistenceId: "maatwerk-sparql",
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    // Only completers that work offline: class/property completion asks an external service.
    yasqe: { value: start.query, autocompleters: ["prefixes", "variables"], prefixCcApi: null },
    yasr: { prefixes: { mw: "https://w3id.org/maatwerk/def#", id: ID } }
  });

  // Tab leaves the editor instead of indenting, so keyboard users are never trapped in it.
  function releaseTab(tab) {
    var yasqe = tab && tab.getYasqe && tab.getYasqe();
    if (!yasqe) return;
    var keys = Object.assign({}, yasqe.getOption("extraKeys") || {}, { "Tab": false, "Shift-Tab": false });
    yasqe.setOption("extraKeys", keys);
    var field = yasqe.getInputField && yasqe.getInputField();
    if (field) field.setAttribute("aria-label", "SPARQL-query");
  }
  function currentTab() { return yasgui.getTab(); }
  yasgui.on("tabSelect", function () { setTimeout(function () { releaseTab(currentTab()); }, 0); });
  yasgui.on("tabAdd", function () { setTimeout(function () { releaseTab(currentTab()); }, 0); });
  releaseTab(currentTab());

  yasgui.on("queryResponse", function (instance, tab) {
    // YASR takes the response right after this event; count once it has.
    setTimeout(function () { announce(tab); }, 0);
  });
  function announce(tab) {
    var n = resultCount(tab);
    var done = n === null ? "Query uitgevoerd." : "Query uitgevoerd: " + n + (n === 1 ? " resultaat." : " resultaten.");
    status.textContent = (current ? current + " · " : "") + done;
  }
  // Plain values in the result table ("44", not "44"^^xsd:integer) unless someone switches it off.
  function simpleTable(tab) {
    var yasr = tab && tab.getYasr && tab.getYasr();
    var table = yasr && yasr.config.plugins.table;
    if (table && !table.dynamicConfig) table.dynamicConfig = { compact: true };
  }

  yasgui.on("query", function (instance, tab) {
    simpleTable(tab);
    status.textContent = (current ? current + " · " : "") + "query wordt uitgevoerd…";
  });

  function resultCount(tab) {
    try {
      var results = tab.getYasr().results;
      var bindings = results && results.getBindings && results.getBindings();
      return bindings ? bindings.length : null;
    } catch (e) { return null; }
  }

  function isOwnWork(query) {
    var text = query.trim();
    if (!text || text === start.query.trim()) return false;
    return !examples.some(function (e) { return e.query.trim() === text; });
  }

  function runExample(example, button) {
    document.querySelectorAll("button.example").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    current = "Voorbeeld: " + example.title;
    status.textContent = current;
    var tab = currentTab();
    if (isOwnWork(tab.getQuery())) tab = yasgui.addTab(true, {}); // keep what someone wrote
    tab.setQuery(example.query);
    tab.setName(example.title.length > 30 ? example.title.slice(0, 28) + "…" : example.title);
    tab.query();
  }
  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-query-id");
      var example = examples.filter(function (e) { return e.id === id; })[0];
      if (example) runExample(example, button);
    });
  });
  // A query from a link opens in its own tab, so it never overwrites what someone was writing.
  function openFromUrl() {
    var tab = currentTab();
    var mine = tab.getQuery().trim();
    if (!mine || mine === start.query.trim()) { tab.setQuery(start.query); return; }
    var added = yasgui.addTab(true, { name: "Query uit link" });
    added.setQuery(start.query);
  }
  if (start.fromUrl) openFromUrl();

  // IRIs of this knowledge graph open here, not on w3id.org.
  function localise(node) {
    node.querySelectorAll("a[href^='" + ID + "']").forEach(function (a) {
      var path = a.getAttribute("href").slice(ID.length);
      a.setAttribute("href", path.indexOf("casus/") === 0 ? "/" + path : "/id/" + path);
      a.removeAttribute("target");
    });
  }
  // YASGUI's own fields have no labels; name them for screen readers.
  var NAMES = { "endpointText": "SPARQL-endpoint", "tableFilter": "Resultaten filteren", "tableSizer": "Aantal rijen per pagina" };
  function label(node) {
    node.querySelectorAll("input:not([aria-label]), select:not([aria-label])").forEach(function (field) {
      if (field.type === "checkbox" && field.closest("label")) return;
      var name = Object.keys(NAMES).filter(function (cls) { return field.classList.contains(cls); })[0];
      field.setAttribute("aria-label", name ? NAMES[name] : (field.placeholder || field.title || "Instelling"));
    });
  }
  new MutationObserver(function () { localise(root); label(root); }).observe(root, { childList: true, subtree: true });
  label(root);
})();
