/* innograph view: draws the graph read from the JSON island; wires search, filters and details.
 * Data strings are only ever set with textContent, .value or vis-network's string titles
 * (shown with innerText): this script never builds markup from data.
 * A big view sends its relationships as plain arrays ("lines") and draws them on the canvas
 * itself, under the nodes, instead of making one vis-network edge object each. */
(function () {
  "use strict";
  var state = {
    ready: false, readyAt: null, firstDrawAt: null, selected: null, selectedAt: null,
    focused: null, network: null, marks: { start: performance.now() }
  };
  window.__innograph = state;

  var data = JSON.parse(document.getElementById("graph-data").textContent);
  state.marks.parsed = performance.now();
  var text = data.text || {};
  var message = document.getElementById("message");
  var loading = document.getElementById("loading");
  var detailsTitle = document.getElementById("details-title");
  var detailsBody = document.getElementById("details-body");
  var detailsLinks = document.getElementById("details-links");

  function say(words) {
    message.textContent = words || "";
    message.hidden = !words;
  }

  var byId = new Map();
  var indexOf = new Map();
  data.nodes.forEach(function (n, i) { byId.set(n.id, n); indexOf.set(n.id, i); });
  var edgeById = new Map();
  data.edges.forEach(function (e) { edgeById.set(e.id, e); });
  var pinned = new Set(data.pinned || []);
  var lines = data.lines || null;
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  state.marks.datasets = performance.now();
  var container = document.getElementById("graph");
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, data.options);
  state.marks.network = performance.now();
  state.network = network;

  /* ---- filters' state, shared by the line drawing ---- */
  var hiddenNodes = new Set();
  var shownTypes = null; /* null: all */

  /* ---- folded groups: a hub's large fan drawn as one node; its listed members stay hidden
     until the planner expands the group (a member shows while any group listing it is open) ---- */
  var expanded = new Set();
  var groupsOf = new Map();
  data.nodes.forEach(function (n) {
    if (n.m) { hiddenNodes.add(n.id); }
    (n.g || []).forEach(function (m) {
      var list = groupsOf.get(m);
      if (!list) { list = []; groupsOf.set(m, list); }
      list.push(n.id);
    });
  });
  function folded(id) {
    var list = groupsOf.get(id);
    return Boolean(list) && !list.some(function (g) { return expanded.has(g); });
  }
  state.expanded = expanded;

  /* ---- big views: lines drawn on the canvas, below the nodes ---- */
  var dragging = false;
  var lineIndex = null;
  if (lines) {
    lineIndex = new Map(); /* node index -> line indices */
    var byType = lines.types.map(function () { return []; });
    for (var i = 0; i < lines.f.length; i += 1) {
      byType[lines.y[i]].push(i);
      [lines.f[i], lines.t[i]].forEach(function (end) {
        var list = lineIndex.get(end);
        if (!list) { list = []; lineIndex.set(end, list); }
        list.push(i);
      });
    }
    var xs = data.nodes.map(function (n) { return n.x; });
    var ys = data.nodes.map(function (n) { return n.y; });
    var lineHidden = function (i) {
      return (shownTypes && !shownTypes.has(lines.types[lines.y[i]].key)) ||
        hiddenNodes.has(data.nodes[lines.f[i]].id) || hiddenNodes.has(data.nodes[lines.t[i]].id);
    };
    network.on("dragStart", function () { dragging = true; });
    network.on("dragEnd", function () { dragging = false; network.redraw(); });
    network.on("beforeDrawing", function (ctx) {
      var scale = network.getScale();
      ctx.save();
      ctx.lineWidth = 1 / scale;
      if (!dragging) {
        ctx.globalAlpha = 0.35;
        byType.forEach(function (members, y) {
          ctx.strokeStyle = lines.types[y].color;
          ctx.beginPath();
          for (var k = 0; k < members.length; k += 1) {
            var j = members[k];
            if (lineHidden(j)) { continue; }
            ctx.moveTo(xs[lines.f[j]], ys[lines.f[j]]);
            ctx.lineTo(xs[lines.t[j]], ys[lines.t[j]]);
          }
          ctx.stroke();
        });
      }
      var chosen = state.selected !== null ? indexOf.get(state.selected) : undefined;
      if (chosen !== undefined && lineIndex.has(chosen)) {
        ctx.globalAlpha = 0.9;
        ctx.lineWidth = 2 / scale;
        ctx.strokeStyle = "#1f2933";
        ctx.beginPath();
        lineIndex.get(chosen).forEach(function (j) {
          if (lineHidden(j)) { return; }
          ctx.moveTo(xs[lines.f[j]], ys[lines.f[j]]);
          ctx.lineTo(xs[lines.t[j]], ys[lines.t[j]]);
        });
        ctx.stroke();
      }
      ctx.restore();
    });
  }

  /* ---- fit: from the positions we placed, so no label has to be measured first ---- */
  function fit() {
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    data.nodes.forEach(function (n) {
      if (hiddenNodes.has(n.id)) { return; }
      if (n.x < minX) { minX = n.x; } if (n.x > maxX) { maxX = n.x; }
      if (n.y < minY) { minY = n.y; } if (n.y > maxY) { maxY = n.y; }
    });
    if (minX === Infinity) { return; }
    var w = container.clientWidth || 800, h = container.clientHeight || 600;
    var margin = 90;
    var scale = Math.min(w / (maxX - minX + 2 * margin), h / (maxY - minY + 2 * margin));
    scale = Math.max(0.02, Math.min(scale, 1.6));
    network.moveTo({ position: { x: (minX + maxX) / 2, y: (minY + maxY) / 2 }, scale: scale, animation: false });
  }
  fit();
  network.once("afterDrawing", function () {
    state.firstDrawAt = performance.now();
    state.readyAt = state.firstDrawAt;
    state.ready = true;
    if (loading) { loading.hidden = true; }
    document.body.setAttribute("data-ready", "1");
  });
  /* keep the whole graph in sight while the frame settles its size, until the planner moves it */
  var touched = false;
  network.on("dragStart", function () { touched = true; });
  network.on("zoom", function () { touched = true; });
  if (window.ResizeObserver) {
    new ResizeObserver(function () { if (!touched) { fit(); } }).observe(container);
  }

  /* ---- details panel ---- */
  function link(template, id, words) {
    var a = document.createElement("a");
    a.href = template.split("{id}").join(encodeURIComponent(id));
    a.target = "_top";
    a.textContent = words;
    return a;
  }

  function lineText(j) {
    var from = data.nodes[lines.f[j]], to = data.nodes[lines.t[j]];
    var parts = [(from.f || from.label) + " — " + lines.types[lines.y[j]].verb + " → " + (to.f || to.label)];
    if (lines.e[j]) { parts.push("   " + text.evidence + ": " + lines.e[j]); }
    var doc = lines.docs[lines.d[j]], basis = lines.bases[lines.b[j]];
    if (doc || basis) { parts.push("   " + text.source + ": " + (doc || "—") + " · " + text.basis + ": " + basis); }
    if (lines.s[j]) { parts.push("   " + text.since + " " + lines.s[j]); }
    return parts.join("\n");
  }

  function showNode(id) {
    var n = byId.get(id);
    if (!n || n.c) { return; }
    detailsTitle.textContent = n.f || n.label;
    var body = n.title || "";
    if (lines && lineIndex.has(indexOf.get(id))) {
      var mine = lineIndex.get(indexOf.get(id));
      var shown = mine.slice(0, 25).map(lineText);
      if (mine.length > 25) { shown.push(text.more_lines.split("{n}").join(String(mine.length - 25))); }
      body += "\n\n" + text.relationships_by_type + " (" + mine.length + ")\n" + shown.join("\n");
    }
    detailsBody.textContent = body;
    detailsLinks.textContent = "";
    var page = n.k === "Industry" ? data.links.industry : data.links.entity;
    if (n.r && page) {
      detailsLinks.appendChild(link(page, n.r, text.open_page));
    }
    if (n.r && data.links.recentre) {
      if (detailsLinks.firstChild) { detailsLinks.appendChild(document.createTextNode(" · ")); }
      detailsLinks.appendChild(link(data.links.recentre, n.r, text.recentre));
    }
  }

  function showEdge(id) {
    var e = edgeById.get(id);
    if (!e) { return; }
    detailsTitle.textContent = e.t;
    detailsBody.textContent = e.title || "";
    detailsLinks.textContent = "";
  }

  network.on("selectNode", function (params) {
    state.selected = params.nodes[0];
    state.selectedAt = performance.now();
  });
  network.on("deselectNode", function () { state.selected = null; });
  network.on("click", function (params) {
    if (params.nodes.length) {
      if (byId.has(params.nodes[0]) && byId.get(params.nodes[0]).g) { toggleGroup(params.nodes[0]); }
      showNode(params.nodes[0]);
    } else if (params.edges.length) {
      showEdge(params.edges[0]);
    }
  });

  /* ---- filters: hide by kind (never the pinned centre) and by relationship type ---- */
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-filter]"));

  function checked(kind) {
    var on = new Set();
    boxes.forEach(function (b) { if (b.getAttribute("data-filter") === kind && b.checked) { on.add(b.value); } });
    return on;
  }

  function allTypes() {
    var all = new Set(data.edges.map(function (e) { return e.t; }));
    if (lines) { lines.types.forEach(function (y) { all.add(y.key); }); }
    return all;
  }

  function edgeShown(e, hidden, types) {
    return types.has(e.t) && !hidden.has(e.from) && !hidden.has(e.to) && !(e.m && !expanded.has(e.m));
  }

  /* nodes that only hidden lines reach are hidden too: none is left as a loose dot. With pinned
     nodes, what the visible lines join to them stays; without, a node stays unless every line
     it had is of a type hidden (hiding a kind of node leaves the others standing). */
  function hideOrphans(hidden, types) {
    var joined = new Map();
    var hadLine = new Set();
    var typeShown = new Set();
    function join(a, b) {
      [[a, b], [b, a]].forEach(function (pair) {
        var list = joined.get(pair[0]);
        if (!list) { list = []; joined.set(pair[0], list); }
        list.push(pair[1]);
      });
    }
    if (lines) {
      for (var i = 0; i < lines.f.length; i += 1) {
        var a = data.nodes[lines.f[i]].id, b = data.nodes[lines.t[i]].id;
        hadLine.add(a); hadLine.add(b);
        if (types.has(lines.types[lines.y[i]].key)) {
          typeShown.add(a); typeShown.add(b);
          if (!hidden.has(a) && !hidden.has(b)) { join(a, b); }
        }
      }
    } else {
      data.edges.forEach(function (e) {
        if (!e.m) { hadLine.add(e.from); hadLine.add(e.to); }
        if (types.has(e.t) && !e.m) { typeShown.add(e.from); typeShown.add(e.to); }
        if (edgeShown(e, hidden, types)) { join(e.from, e.to); }
      });
    }
    var roots = Array.from(pinned).filter(function (id) { return byId.has(id) && !hidden.has(id); });
    if (roots.length) {
      var reached = new Set(roots);
      var queue = roots.slice();
      while (queue.length) {
        (joined.get(queue.pop()) || []).forEach(function (o) {
          if (!reached.has(o)) { reached.add(o); queue.push(o); }
        });
      }
      data.nodes.forEach(function (n) { if (!n.c && !reached.has(n.id)) { hidden.add(n.id); } });
    } else {
      data.nodes.forEach(function (n) {
        if (!n.c && hadLine.has(n.id) && !typeShown.has(n.id)) { hidden.add(n.id); }
      });
    }
  }

  var typeBoxes = boxes.some(function (b) { return b.getAttribute("data-filter") === "type"; });

  function applyFilters(changed) {
    var groups = checked("group");
    var types = typeBoxes ? checked("type") : allTypes();
    var nextHidden = new Set();
    data.nodes.forEach(function (n) {
      if (n.c) { return; }
      if ((!groups.has(n.group) && !pinned.has(n.id)) || folded(n.id)) { nextHidden.add(n.id); }
    });
    hideOrphans(nextHidden, types);
    var visible = data.nodes.filter(function (n) { return !n.c && !nextHidden.has(n.id); }).length;
    if (visible === 0) {
      if (changed) { changed.checked = true; }
      say(text.keep_one);
      return;
    }
    say("");
    var nodeUpdates = [];
    data.nodes.forEach(function (n) {
      var was = hiddenNodes.has(n.id);
      var now = nextHidden.has(n.id);
      if (was !== now) { nodeUpdates.push({ id: n.id, hidden: now }); }
    });
    var edgeUpdates = [];
    data.edges.forEach(function (e) {
      var hide = !edgeShown(e, nextHidden, types);
      if (Boolean(e.hidden) !== hide) { e.hidden = hide; edgeUpdates.push({ id: e.id, hidden: hide }); }
    });
    hiddenNodes = nextHidden;
    shownTypes = types;
    if (nodeUpdates.length) { nodes.update(nodeUpdates); }
    if (edgeUpdates.length) { edges.update(edgeUpdates); }
    network.redraw();
  }

  function toggleGroup(id) {
    if (expanded.has(id)) { expanded.delete(id); } else { expanded.add(id); }
    applyFilters(null);
    if (!touched) { fit(); }
  }
  state.toggleGroup = toggleGroup;
  boxes.forEach(function (b) { b.addEventListener("change", function () { applyFilters(b); }); });

  /* ---- search: focus the best match ---- */
  var list = document.getElementById("search-list");
  var seen = new Set();
  var index = [];
  data.nodes.forEach(function (n) {
    if (n.c) { return; }
    var full = n.f || n.label;
    var names = [full].concat(n.n ? n.n.split("\n") : []);
    index.push({ id: n.id, names: names.map(function (s) { return s.toLowerCase(); }), ref: (n.r || "").toLowerCase() });
    if (!seen.has(full)) {
      seen.add(full);
      var option = document.createElement("option");
      option.value = full;
      list.appendChild(option);
    }
  });

  function find(query) {
    var q = query.trim().toLowerCase();
    if (!q) { return null; }
    var tests = [
      function (e) { return e.names[0] === q; },
      function (e) { return e.names.indexOf(q) >= 0 || e.ref === q; },
      function (e) { return e.names.some(function (s) { return s.indexOf(q) === 0; }); },
      function (e) { return e.names.some(function (s) { return s.indexOf(q) >= 0; }); }
    ];
    for (var i = 0; i < tests.length; i += 1) {
      for (var j = 0; j < index.length; j += 1) {
        if (tests[i](index[j])) { return index[j].id; }
      }
    }
    return null;
  }

  function focusNode(id) {
    var n = byId.get(id);
    if (folded(id)) { expanded.add(groupsOf.get(id)[0]); }
    if (hiddenNodes.has(id)) {
      boxes.forEach(function (b) {
        if (b.getAttribute("data-filter") === "group" && b.value === n.group) { b.checked = true; }
      });
      applyFilters(null);
    }
    touched = true;
    network.selectNodes([id]);
    network.focus(id, { scale: Math.max(network.getScale(), 1.1), animation: false });
    showNode(id);
    state.focused = id;
    state.selected = id;
    state.selectedAt = performance.now();
  }

  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("search");
    var id = find(input.value);
    if (id === null) {
      say(text.no_match + ": " + input.value);
      return;
    }
    say("");
    focusNode(id);
  });
  document.getElementById("fit").addEventListener("click", fit);
  state.find = find;
  state.focusNode = focusNode;
})();
