// YASGUI pointed at this server's read-only /sparql endpoint, with the example queries as buttons.
(function () {
  "use strict";
  var root = document.getElementById("yasgui");
  if (!root || !window.Yasgui) return;
  var Yasgui = window.Yasgui.default || window.Yasgui;
  var examples = JSON.parse(document.getElementById("sparql-voorbeelden").textContent);
  var start = JSON.parse(document.getElementById("sparql-begin").textContent);
  var status = document.getElementById("sparql-status");
  var cut = document.getElementById("sparql-afgekapt");
  var endpoint = window.location.origin + "/sparql";
  var ID = "https://w3id.org/maatwerk/id/";
  var LINK_TAB = "Query uit link"; // the one tab that queries from links and shared addresses open in
  var responses = {}; // tab id -> the last HTTP response (or Error) of its query
  var revealResult = false; // after an example is tapped, scroll its result into view

  // The query in a link YASGUI's share button made (/sparql#query=...), read here instead of by
  // YASGUI (populateFromUrl), which would also take the endpoint from the link.
  var shared = new URLSearchParams(window.location.hash.slice(1)).get("query");
  var linked = shared || (start.fromUrl ? start.query : null);

  // Errors from the endpoint in Dutch: its JSON has `error` and `detail`.
  Yasgui.Yasr.defaults.errorRenderers = [function (error) {
    var box = document.createElement("div");
    box.className = "sparql-fout";
    var title = document.createElement("p");
    title.className = "sparql-fout-kop";
    title.textContent = "De query kon niet worden uitgevoerd.";
    var message = document.createElement("p");
    message.textContent = errorText(error && error.text);
    box.appendChild(title);
    box.appendChild(message);
    return Promise.resolve(box);
  }];

  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    populateFromUrl: false,
    autofocus: false,
    persistenceId: "maatwerk-sparql",
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    // Only completers that work offline: class/property completion asks an external service.
    yasqe: { value: start.query, autocompleters: ["prefixes", "variables"], prefixCcApi: null },
    yasr: { prefixes: { mw: "https://w3id.org/maatwerk/def#", id: ID } }
  });

  function errorText(raw) {
    try {
      var body = JSON.parse(raw);
      return [body.error, body.detail].filter(Boolean).join(" ");
    } catch (e) {
      return raw ? "De server antwoordde: " + raw : "Er kwam geen antwoord van de server; probeer het opnieuw.";
    }
  }

  // Per tab: Tab leaves the editor instead of indenting (nobody is trapped in it), the editor and
  // its scroll box have a name, and the HTTP response is kept for the status line.
  function prepare(tab) {
    var yasqe = tab && tab.getYasqe && tab.getYasqe();
    if (!yasqe || yasqe.maatwerkReady) return;
    yasqe.maatwerkReady = true;
    var keys = Object.assign({}, yasqe.getOption("extraKeys") || {}, { "Tab": false, "Shift-Tab": false });
    yasqe.setOption("extraKeys", keys);
    yasqe.getInputField().setAttribute("aria-label", "SPARQL-query");
    var scroller = yasqe.getScrollerElement();
    scroller.setAttribute("tabindex", "0");
    scroller.setAttribute("role", "region");
    scroller.setAttribute("aria-label", "SPARQL-query (schuifvak)");
    yasqe.on("queryResponse", function (instance, response) { responses[tab.getId()] = response; });
  }
  function currentTab() { return yasgui.getTab(); }
  yasgui.on("tabSelect", function () { setTimeout(function () { prepare(currentTab()); }, 0); });
  yasgui.on("tabAdd", function () { setTimeout(function () { prepare(currentTab()); }, 0); });
  prepare(currentTab());

  // --- the status line: which query, how it went ---
  function queryName(tab) {
    var text = tab.getQuery().trim();
    var example = examples.filter(function (e) { return e.query.trim() === text; })[0];
    if (example) return "Voorbeeld: " + example.title;
    return tab.getName() === LINK_TAB && text === (linked || "").trim() ? LINK_TAB : "Eigen query";
  }
  function say(text, failed) {
    status.textContent = text;
    status.classList.toggle("fout", Boolean(failed));
  }
  yasgui.on("query", function (instance, tab) {
    simpleTable(tab);
    cut.textContent = "";
    say(queryName(tab) + " · query wordt uitgevoerd…");
  });
  yasgui.on("queryResponse", function (instance, tab) {
    // YASR takes the response right after this event; count once it has.
    setTimeout(function () { announce(tab); }, 0);
  });
  function announce(tab) {
    var response = responses[tab.getId()];
    if (revealResult) { revealResult = false; showResult(); }
    if (!response || response instanceof Error || !response.ok) {
      say(queryName(tab) + " · fout: " + errorText(response && (response.message || response.content)), true);
      return;
    }
    var n = resultCount(tab);
    var done = n === null ? "query uitgevoerd." : n.toLocaleString("nl-NL") + (n === 1 ? " resultaat." : " resultaten.");
    say(queryName(tab) + " · " + done);
    var limit = /(\d+)/.exec(response.headers.get("X-Result-Truncated") || "");
    if (limit) {
      cut.textContent = "Afgekapt: alleen de eerste " + Number(limit[1]).toLocaleString("nl-NL") +
        " rijen worden getoond. Maak de query specifieker of gebruik LIMIT en OFFSET.";
    }
  }
  function resultCount(tab) {
    var results = tab.getYasr().results;
    var bindings = results && results.getBindings && results.getBindings();
    return bindings ? bindings.length : null;
  }
  // Plain values in the result table ("44", not "44"^^xsd:integer) unless someone switches it off.
  function simpleTable(tab) {
    var yasr = tab && tab.getYasr && tab.getYasr();
    var table = yasr && yasr.config.plugins.table;
    if (table && !table.dynamicConfig) table.dynamicConfig = { compact: true };
  }

  // --- example queries ---
  function isOwnWork(query) {
    var text = query.trim();
    if (!text || text === start.query.trim()) return false;
    return !examples.some(function (e) { return e.query.trim() === text; });
  }
  function runExample(example, button) {
    document.querySelectorAll("button.example").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    var tab = currentTab();
    if (isOwnWork(tab.getQuery())) tab = yasgui.addTab(true, {}); // keep what someone wrote
    tab.setQuery(example.query);
    tab.setName(example.title.length > 30 ? example.title.slice(0, 28) + "…" : example.title);
    revealResult = true;
    tab.query();
  }
  // On a phone the result lies far below the list of examples: bring it into view.
  function showResult() {
    var result = root.querySelector(".tabPanel.active .yasr");
    if (result && result.getBoundingClientRect().top > window.innerHeight * 0.6) {
      result.scrollIntoView({ block: "start" });
    }
  }
  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-query-id");
      var example = examples.filter(function (e) { return e.id === id; })[0];
      if (example) runExample(example, button);
    });
  });

  // --- a query from a link: always the same tab, so links do not pile up tabs ---
  function linkTab() {
    var ids = yasgui.persistentConfig.getTabs();
    for (var i = 0; i < ids.length; i++) {
      var tab = yasgui.getTab(ids[i]);
      if (tab && tab.getName() === LINK_TAB) { yasgui.selectTabId(ids[i]); return tab; }
    }
    var current = currentTab();
    var mine = current.getQuery().trim();
    if (!mine || mine === start.query.trim() || !isOwnWork(mine)) { current.setName(LINK_TAB); return current; }
    return yasgui.addTab(true, { name: LINK_TAB }); // never overwrite what someone was writing
  }
  if (linked) {
    var tab = linkTab();
    tab.setQuery(linked);
    prepare(tab);
    say(LINK_TAB + " geladen. Voer hem uit met de afspeelknop of Ctrl+Enter.");
  }

  // --- YASGUI's own interface: local links, names for fields, Dutch labels, a valid tab list ---
  function localise(node) {
    node.querySelectorAll("a[href^='" + ID + "']").forEach(function (a) {
      var path = a.getAttribute("href").slice(ID.length);
      a.setAttribute("href", path.indexOf("casus/") === 0 ? "/" + path : "/id/" + path);
      a.removeAttribute("target");
    });
  }
  var NAMES = { "endpointText": "SPARQL-endpoint", "tableFilter": "Resultaten filteren", "tableSizer": "Aantal rijen per pagina" };
  function label(node) {
    node.querySelectorAll("input:not([aria-label]), select:not([aria-label])").forEach(function (field) {
      if (field.type === "checkbox" && field.closest("label")) return;
      var name = Object.keys(NAMES).filter(function (cls) { return field.classList.contains(cls); })[0];
      if (!name && field.closest(".tab")) { field.setAttribute("aria-label", "Naam van het tabblad"); return; }
      if (!name && field.closest(".yasqe_sharePopup")) { field.setAttribute("aria-label", "Link om deze query te delen"); return; }
      field.setAttribute("aria-label", name ? NAMES[name] : (field.placeholder || field.title || "Instelling"));
    });
    // A result table wider than a phone scrolls in its box; keyboard users can scroll it too.
    node.querySelectorAll(".yasr_results:not([tabindex])").forEach(function (box) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Resultaat van de query");
    });
  }
  // Exact English texts of YASGUI 4.6 and their Dutch; what is not here stays English (README).
  var DUTCH = {
    "Add tab": "Nieuw tabblad", "Add a new tab": "Nieuw tabblad", "Close tab": "Tabblad sluiten",
    "Run query": "Query uitvoeren", "Share query": "Query delen", "Download result": "Resultaat downloaden",
    "Download Results": "Resultaat downloaden", "Filter query results": "Resultaten filteren",
    "Page size: ": "Rijen per pagina: ", "Show all": "Alles tonen", "Table": "Tabel", "Response": "Antwoord",
    "Shows Table view": "Toont de tabel", "Shows Response view": "Toont het antwoord",
    "Clear endpoint": "Endpoint wissen", "Simple view": "Eenvoudige weergave", "Ellipse": "Inkorten",
    "Try query in a new browser window": "Query in een nieuw venster proberen", "Shorten": "Inkorten",
    "Download not supported": "Downloaden niet mogelijk", "Rename Tab": "Tabblad hernoemen",
    "Close other tabs": "Andere tabbladen sluiten", "Copy Tab": "Tabblad kopiëren", "New Tab": "Nieuw tabblad",
    "Open settings": "Instellingen openen", "pagination": "Paginanavigatie", "First": "Eerste", "Previous": "Vorige",
    "Next": "Volgende", "Last": "Laatste", "Close settings": "Instellingen sluiten", "Close Tab": "Tabblad sluiten",
    "Undo close Tab": "Gesloten tabblad terughalen", "View documentation of Table": "Uitleg over de tabel",
    "View documentation of Response": "Uitleg over het antwoord", "Request method": "Verzoekmethode",
    "Accept Headers": "Accept-headers", "Arguments": "Argumenten", "Header Arguments": "Headers",
    "Default Graphs": "Standaardgrafen", "Named Graphs": "Benoemde grafen"
  };
  var PATTERNS = [
    [/^(.*): Activate to sort$/, "$1: sorteren"],
    [/^(.*): Activate to invert sorting$/, "$1: andersom sorteren"],
    [/^(.*): Activate to remove sorting$/, "$1: sortering opheffen"],
    [/^Showing ([\d,]+) to ([\d,]+) of ([\d,]+) entries$/, "Rij $1 tot en met $2 van $3"],
    [/^\(filtered from ([\d,]+) total entries\)$/, "(gefilterd uit $1)"]
  ];
  function translate(english) {
    if (DUTCH[english]) return DUTCH[english];
    for (var i = 0; i < PATTERNS.length; i++) {
      if (PATTERNS[i][0].test(english)) return english.replace(PATTERNS[i][0], PATTERNS[i][1]);
    }
    return summary(english);
  }
  function dutch(node) {
    ["title", "aria-label", "placeholder"].forEach(function (attr) {
      node.querySelectorAll("[" + attr + "]").forEach(function (el) {
        var text = translate(el.getAttribute(attr));
        if (text) el.setAttribute(attr, text);
      });
    });
    // The query and the results stay as they are: their subtrees are skipped.
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, function (n) {
      if (n.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
      return n.matches(".CodeMirror, table, pre") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
    });
    for (var t = walker.nextNode(); t; t = walker.nextNode()) {
      var english = t.nodeValue;
      var text = translate(english);
      if (text && text !== english) t.nodeValue = text;
    }
  }
  // "12 results in 0.05 seconds" -> "12 resultaten in 0,05 seconden"; "Response in 0.4 seconds" likewise.
  function summary(text) {
    var m = /^(?:(\d+) results?|Response) in ([\d.]+) seconds?$/.exec(text.trim());
    if (!m) return null;
    var what = m[1] === undefined ? "Antwoord" : m[1] + (m[1] === "1" ? " resultaat" : " resultaten");
    return what + " in " + m[2].replace(".", ",") + " seconde" + (m[2] === "1" ? "" : "n");
  }
  // The "+" button is a child of the role=tablist, which may hold only tabs: it goes beside the list.
  function tabRow() {
    var list = root.querySelector(".tabsList");
    var add = list && list.querySelector("button.addTab");
    if (!add) return;
    var row = document.createElement("div");
    row.className = "tab-row";
    list.parentNode.insertBefore(row, list);
    row.appendChild(list);
    row.appendChild(add);
  }
  tabRow();
  function tidy() { localise(root); label(root); dutch(root); }
  new MutationObserver(tidy).observe(root, {
    childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["title", "aria-label", "placeholder"]
  });
  tidy();
})();
