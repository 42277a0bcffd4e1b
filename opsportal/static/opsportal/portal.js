/* OpsPortal's page script (admin/base_site.html, deferred). Every page works without it;
   with it:
   - "/" focuses the header's search box (unless you are typing somewhere);
   - <time class="when"> shows the reader's local clock time and keeps "3 min ago" fresh;
   - an element with data-portal-refresh="URL" is refreshed from the element of the same id
     in the HTML the URL returns (a fragment or a whole page), every data-portal-every ms
     (default 3000; the fresh copy may change it, an absent URL stops it): each of its
     [data-portal-part] pieces is swapped alone (or the whole element when it has none),
     only when it changed and never while focus is inside it; what a person typed or chose
     in a swapped piece is carried over, so no half-typed note is ever lost. */
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
  var secondsClock = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit", minute: "2-digit", second: "2-digit"
  });

  function localTimes(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time.when[datetime]").forEach(function (t) {
      var at = new Date(t.getAttribute("datetime"));
      if (isNaN(at)) return;
      var rel = t.querySelector(".when-rel"), clk = t.querySelector(".when-clock");
      if (rel) rel.textContent = relative((at - now) / 1000);
      if (clk && t.classList.contains("when-exact")) {
        clk.textContent = secondsClock.format(at);
      } else if (clk) {
        var sameDay = new Date(now).toDateString() === at.toDateString();
        clk.textContent = (sameDay ? clock : dayClock).format(at);
      }
    });
  }

  var TOKEN = /name="csrfmiddlewaretoken" value="[^"]*"/g;
  var CONTROLS = "input:not([type=hidden]):not([type=submit]), textarea, select";

  // CSRF tokens are masked afresh on every render: compare without them.
  function strip(html) { return html.replace(TOKEN, ""); }

  // A form control's place: the nearest ancestor with an id, its name, its rank there.
  function controlsByPlace(root) {
    var seen = {}, out = {};
    root.querySelectorAll(CONTROLS).forEach(function (el) {
      var holder = el.parentElement;
      while (holder && holder !== root && !holder.id) holder = holder.parentElement;
      var place = (holder ? holder.id : "") + "|" + el.tagName + "|" + (el.name || el.id);
      seen[place] = (seen[place] || 0) + 1;
      out[place + "|" + seen[place]] = el;
    });
    return out;
  }

  function changedByUser(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return el.value !== el.defaultValue;
  }

  // What a person typed or chose in `old` carries over into its fresh copy.
  function carryInput(old, fresh) {
    var twins = controlsByPlace(fresh), mine = controlsByPlace(old);
    Object.keys(mine).forEach(function (place) {
      var el = mine[place], twin = twins[place];
      if (!twin || twin.tagName !== el.tagName || !changedByUser(el)) return;
      if (el.type === "checkbox" || el.type === "radio") twin.checked = el.checked;
      else twin.value = el.value;
    });
  }

  function replace(now, fresh) {
    carryInput(now, fresh);
    now.replaceWith(fresh);
    localTimes(fresh);
  }

  // Swap each [data-portal-part] of the fresh copy whose HTML changed and that holds no focus
  // (a part holding focus waits for the next tick); without parts, the whole element.
  function swap(id, fresh, last) {
    var now = document.getElementById(id);
    if (!now) return;
    var parts = fresh.querySelectorAll("[data-portal-part][id]");
    now.setAttribute("data-portal-every", fresh.getAttribute("data-portal-every") || "");
    if (!parts.length) {
      var html = strip(fresh.outerHTML);
      if (last[id] !== html && !now.contains(document.activeElement)) {
        replace(now, fresh);
        last[id] = html;
      }
      return;
    }
    Array.prototype.forEach.call(parts, function (part) {
      var html = strip(part.outerHTML), mine = document.getElementById(part.id);
      if (!mine || last[part.id] === html || mine.contains(document.activeElement)) return;
      replace(mine, part);
      last[part.id] = html;
    });
  }

  function refreshers() {
    document.querySelectorAll("[data-portal-refresh]").forEach(function (first) {
      var id = first.id, last = {};
      function every() {
        var el = document.getElementById(id);
        return Number(el && el.getAttribute("data-portal-every")) || 3000;
      }
      function tick() {
        var el = document.getElementById(id);
        var url = el && el.getAttribute("data-portal-refresh");
        if (!url) return;
        fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
          .then(function (r) {
            // Signed out meanwhile (e.g. a key rotation ended every session): reload, so the
            // login page can say why.
            if (r.redirected && /\/login\//.test(r.url)) {
              window.location.reload();
              return null;
            }
            return r.ok ? r.text() : null;
          })
          .then(function (html) {
            if (html !== null) {
              var box = document.createElement("template");
              box.innerHTML = html.trim();
              var fresh = box.content.getElementById(id);
              if (fresh) swap(id, fresh, last);
            }
            setTimeout(tick, every());
          })
          .catch(function () { setTimeout(tick, every() * 3); });
      }
      if (id) setTimeout(tick, every());
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
