// Draws a case's neighbourhood with Cytoscape. The same nodes are listed under the picture
// as links, so nothing here is needed to reach them by keyboard or screen reader.
(function () {
  "use strict";
  var container = document.getElementById("graaf");
  var source = document.getElementById("graaf-data");
  if (!container || !source || typeof window.cytoscape !== "function") return;
  var data = JSON.parse(source.textContent);

  // Okabe-Ito colours (distinguishable with colour blindness), plus a shape per kind.
  var STYLE = {
    casus: { color: "#154273", shape: "ellipse", size: 46, ring: 3 },
    wet: { color: "#b34700", shape: "round-rectangle", size: 30, ring: 2 },
    voorziening: { color: "#007a5a", shape: "diamond", size: 32, ring: 2 },
    organisatie: { color: "#8a3f7a", shape: "hexagon", size: 30, ring: 2 },
    levensgebied: { color: "#9a6b00", shape: "round-triangle", size: 32, ring: 2 },
    anderecasus: { color: "#2c7fb8", shape: "ellipse", size: 26, ring: 1 }
  };

  function narrow() { return container.clientWidth < 600; }

  function shortLabel(text) {
    return text.length > 34 ? text.slice(0, 32) + "…" : text;
  }

  var elements = data.nodes.map(function (n) {
    return { data: { id: n.id, label: shortLabel(n.label), full: n.label, kind: n.kind, url: n.url } };
  }).concat(data.edges.map(function (e, i) {
    return { data: { id: "e" + i, source: e.source, target: e.target } };
  }));

  // The case in the centre, its concepts on an inner ellipse (grouped by kind), other cases on an
  // outer ellipse near the concepts they share: an ellipse uses the wide box better than a circle.
  function positions() {
    var w = Math.max(container.clientWidth, 200), h = Math.max(container.clientHeight, 200);
    var centre = data.nodes[0];
    var inner = data.nodes.filter(function (n) { return n.kind !== "casus" && n.kind !== "anderecasus"; });
    var outer = data.nodes.filter(function (n) { return n.kind === "anderecasus"; });
    var at = {};
    at[centre.id] = { x: 0, y: 0 };
    var angle = {};
    inner.forEach(function (n, i) {
      angle[n.id] = -Math.PI / 2 + (2 * Math.PI * i) / inner.length;
      at[n.id] = { x: 0.24 * w * Math.cos(angle[n.id]), y: 0.27 * h * Math.sin(angle[n.id]) };
    });
    placeOuter(outer, angle).forEach(function (a, i) {
      at[outer[i].id] = { x: 0.4 * w * Math.cos(a), y: 0.42 * h * Math.sin(a) };
    });
    return at;
  }

  function placeOuter(outer, angle) {
    var wanted = outer.map(function (n) {
      var x = 0, y = 0;
      data.edges.forEach(function (e) {
        if (e.target === n.id && angle[e.source] !== undefined) { x += Math.cos(angle[e.source]); y += Math.sin(angle[e.source]); }
      });
      return Math.atan2(y, x);
    });
    var order = wanted.map(function (a, i) { return i; }).sort(function (a, b) { return wanted[a] - wanted[b]; });
    var step = (2 * Math.PI) / Math.max(outer.length, 1);
    var offset = 0;
    order.forEach(function (idx, k) { offset += wanted[idx] - k * step; });
    offset /= Math.max(outer.length, 1);
    var result = [];
    order.forEach(function (idx, k) { result[idx] = offset + k * step; });
    return result;
  }

  var cy = window.cytoscape({
    container: container,
    elements: elements,
    userZoomingEnabled: false, // the page scrolls with the wheel; zoom with the buttons
    boxSelectionEnabled: false,
    minZoom: 0.3,
    maxZoom: 3,
    // positions are in screen pixels already; fitting only trims the margins
    style: [
      { selector: "node", style: {
        "background-color": function (n) { return STYLE[n.data("kind")].color; },
        "shape": function (n) { return STYLE[n.data("kind")].shape; },
        "width": function (n) { return STYLE[n.data("kind")].size; },
        "height": function (n) { return STYLE[n.data("kind")].size; },
        // On a phone the other cases' titles would cover the picture; they are in the list below.
        "label": function (n) { return narrow() && n.data("kind") === "anderecasus" ? "" : n.data("label"); },
        "font-size": 12,
        "color": "#1b1b1b",
        "text-valign": "bottom",
        "text-margin-y": 4,
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.85,
        "text-background-padding": 2
      } },
      { selector: "node[kind = 'casus']", style: { "font-weight": "bold", "font-size": 13 } },
      { selector: "edge", style: { "width": 1.5, "line-color": "#9aa5b1", "curve-style": "bezier" } },
      { selector: "node:active, node.hover", style: { "border-width": 3, "border-color": "#1b1b1b" } },
      { selector: "edge.hover", style: { "width": 3, "line-color": "#1b1b1b", "z-index": 10 } }
    ],
    layout: { name: "preset", positions: positions(), fit: true, padding: 24 }
  });

  cy.on("tap", "node", function (event) {
    var node = event.target;
    if (node.data("kind") !== "casus") window.location.href = node.data("url");
  });
  cy.on("mouseover", "node", function (event) {
    event.target.addClass("hover");
    event.target.connectedEdges().addClass("hover");
    container.style.cursor = event.target.data("kind") === "casus" ? "default" : "pointer";
    container.title = event.target.data("full");
  });
  cy.on("mouseout", "node", function (event) {
    event.target.removeClass("hover");
    event.target.connectedEdges().removeClass("hover");
    container.style.cursor = "default";
    container.title = "";
  });

  // On a touch screen the picture ignores touches (CSS: pointer-events), so a swipe over it
  // scrolls the page; "Verken de graaf" hands the touches to the picture until pressed again.
  function explore(button) {
    var on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    container.classList.toggle("verkennen", on);
  }

  var actions = {
    "verken": explore,
    "in": function () { cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: centre() }); },
    "uit": function () { cy.zoom({ level: cy.zoom() / 1.25, renderedPosition: centre() }); },
    "passend": function () { cy.fit(undefined, 20); }
  };
  function centre() { return { x: container.clientWidth / 2, y: container.clientHeight / 2 }; }
  document.querySelectorAll("[data-graaf]").forEach(function (button) {
    button.addEventListener("click", function () { actions[button.getAttribute("data-graaf")](button); });
  });
  window.addEventListener("resize", function () {
    cy.resize();
    cy.layout({ name: "preset", positions: positions(), fit: true, padding: 24 }).run();
  });
  container.setAttribute("data-getekend", "ja"); // lets tests (and people) see the picture is drawn
})();
