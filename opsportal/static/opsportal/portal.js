/* OpsPortal's page script (admin/base_site.html, deferred). Every page works without it;
   with it:
   - "/" focuses the header's search box (unless you are typing somewhere);
   - <time class="when"> shows the reader's local clock time and keeps "3 min ago" fresh;
   - an element with data-portal-refresh="URL" is replaced by the HTML fragment the URL
     returns, every data-portal-every ms (default 3000), only when it changed and never
     while focus is inside it (so a click or typed text is never lost). */
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var el = document.activeElement;
    var typing = el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
    var box = document.getElementById("portal-search-q");
    if (typing || !box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  function relative(seconds) {
    var a = Math.abs(seconds);
    if (a < 45) return "just now";
    var text;
    if (a < 3600) text = Math.round(a / 60) + " min";
    else if (a < 86400) text = Math.floor(a / 3600) + " h" + (Math.round((a % 3600) / 60) ? " " + Math.round((a % 3600) / 60) + " min" : "");
    else text = Math.floor(a / 86400) + " d" + (Math.floor((a % 86400) / 3600) ? " " + Math.floor((a % 86400) / 3600) + " h" : "");
    return seconds > 0 ? "in " + text : text + " ago";
  }

  var clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  var dayClock = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"
  });

  function localTimes(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time.when[datetime]").forEach(function (t) {
      var at = new Date(t.getAttribute("datetime"));
      if (isNaN(at)) return;
      var rel = t.querySelector(".when-rel"), clk = t.querySelector(".when-clock");
      if (rel) rel.textContent = relative((at - now) / 1000);
      if (clk) {
        var sameDay = new Date(now).toDateString() === at.toDateString();
        clk.textContent = (sameDay ? clock : dayClock).format(at);
      }
    });
  }

  var TOKEN = /name="csrfmiddlewaretoken" value="[^"]*"/g;

  function refreshers() {
    document.querySelectorAll("[data-portal-refresh]").forEach(function (first) {
      var id = first.id, last = null;
      var every = Number(first.getAttribute("data-portal-every")) || 3000;
      function tick() {
        var el = document.getElementById(id);
        if (!el) return;
        if (el.contains(document.activeElement)) return setTimeout(tick, every);
        fetch(el.getAttribute("data-portal-refresh"), {
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch" }
        })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            var now = document.getElementById(id);
            // CSRF tokens are masked afresh on every render: compare without them.
            var same = html !== null && html.replace(TOKEN, "") === (last || "").replace(TOKEN, "");
            if (now && html !== null && !same && !now.contains(document.activeElement)) {
              var box = document.createElement("div");
              box.innerHTML = html.trim();
              var fresh = box.firstElementChild;
              if (fresh && fresh.id === id) {
                now.replaceWith(fresh);
                localTimes(fresh);
                last = html;
              }
            }
            setTimeout(tick, every);
          })
          .catch(function () { setTimeout(tick, every * 3); });
      }
      if (id) setTimeout(tick, every);
    });
  }

  function start() {
    localTimes();
    setInterval(localTimes, 30000);
    refreshers();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
