// Live preview of Markdown textareas: <textarea data-preview="ID"> renders into #ID.
// Served from /static (CSP: script-src 'self'); the server sanitises the HTML.
(function () {
  "use strict";
  var token = document.querySelector('input[name="csrf_token"]');
  if (!token) { return; }
  function wire(area) {
    var pane = document.getElementById(area.getAttribute("data-preview"));
    if (!pane) { return; }
    var timer = null;
    var sent = 0;
    function refresh() {
      var mine = ++sent;
      var body = new URLSearchParams();
      body.set("text", area.value);
      fetch("/preview", {
        method: "POST",
        headers: { "x-csrf-token": token.value },
        body: body,
        credentials: "same-origin"
      }).then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (mine === sent) {
            pane.innerHTML = html;
            pane.setAttribute("data-rendered", String(mine));
          }
        })
        .catch(function () { pane.setAttribute("data-stale", "1"); });
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-preview]"), wire);
})();
