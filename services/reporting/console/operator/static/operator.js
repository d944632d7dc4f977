// Live updates for the operator overview: the server sends `change` (server-sent events)
// whenever an event is recorded; the page fetches itself again and replaces each panel
// that does not hold the keyboard focus. A polite status line says what happened, and a
// button pauses updates (WCAG 2.2.2). Without this script the page works with "Refresh".
(function () {
  "use strict";
  var bar = document.getElementById("live-bar");
  if (!bar || !window.EventSource || !window.fetch) return;
  var status = document.getElementById("live-status");
  var toggle = document.getElementById("live-toggle");
  var paused = false, pending = 0, busy = false;

  function say(template, values) {
    status.textContent = template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] == null ? "" : values[k]; });
  }

  // The time as the server writes it: in the viewer's zone, named by its place.
  function now() {
    var lang = document.documentElement.lang, time;
    var format = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone: bar.dataset.zone || "UTC" };
    try {
      time = new Date().toLocaleTimeString(lang, format);
    } catch (e) {  // a zone this browser does not know: the same format, in UTC
      format.timeZone = "UTC";
      time = new Date().toLocaleTimeString(lang, format);
    }
    return format.timeZone === "UTC" ? time + " UTC" : time + " (" + bar.dataset.place + ")";
  }

  function refresh() {
    if (busy) { pending += 1; return; }
    busy = true;
    var count = pending || 1;
    pending = 0;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-panel]").forEach(function (panel) {
          var next = fresh.getElementById(panel.id);
          if (next && !panel.contains(document.activeElement)) panel.innerHTML = next.innerHTML;
        });
        say(bar.dataset.updated, { time: now(), count: count });
      })
      .catch(function () { say(bar.dataset.lost, {}); })
      .then(function () { busy = false; if (pending && !paused) refresh(); });
  }

  var source = new EventSource(bar.dataset.liveUrl);
  source.addEventListener("change", function () {
    if (paused) { pending += 1; return; }
    refresh();
  });
  source.addEventListener("error", function () { if (source.readyState !== EventSource.OPEN) say(bar.dataset.lost, {}); });

  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    paused = !paused;
    toggle.setAttribute("aria-pressed", String(paused));
    toggle.textContent = paused ? toggle.dataset.resume : toggle.dataset.pause;
    say(paused ? bar.dataset.paused : bar.dataset.resumed, {});
    if (!paused && pending) refresh();
  });
  bar.dataset.ready = "true";
})();
