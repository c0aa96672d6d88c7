/* innograph pages: names suggested as the planner types (from /api/search), built with the DOM only. */
(function () {
  "use strict";
  var zh = document.documentElement.lang === "zh-CN";
  var kinds = {};
  try { kinds = JSON.parse(document.body.getAttribute("data-kind-labels") || "{}"); } catch (e) { kinds = {}; }
  function suggest(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (timer) { clearTimeout(timer); }
      if (!q || q === last || /^[a-z]+:\S+$/.test(q)) { return; }
      timer = setTimeout(function () {
        last = q;
        var url = "/api/search?" + new URLSearchParams({ q: q.slice(0, 200), limit: "8" }).toString();
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) {
            list.textContent = "";
            (data.results || []).forEach(function (hit) {
              var node = hit.node;
              var name = zh && node.name_zh ? node.name_zh : node.name;
              var option = document.createElement("option");
              option.value = node.id;
              option.label = name + " · " + (kinds[node.kind] || node.kind);
              list.appendChild(option);
            });
          })
          .catch(function () { list.textContent = ""; });
      }, 180);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), suggest);
})();
