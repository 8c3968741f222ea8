/* The dashboard's only script (no inline scripts: the Content-Security-Policy forbids them).
   - numbers, money and times in the browser's locale;
   - the browser's time zone in a cookie, so "today" on the home page is the viewer's day;
   - live stock: the stock stream (Server-Sent Events, the session cookie authenticates it)
     updates the rows on the page; a dropped connection resumes with Last-Event-ID, which the
     browser sends by itself, and the page says so. */
(function () {
  "use strict";

  var numbers = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

  function formatNumber(el) {
    var n = Number(el.getAttribute("data-num"));
    if (!isNaN(n)) { el.textContent = numbers.format(n); }
  }

  function formatMoney(el) {
    var minor = Number(el.getAttribute("data-money"));
    var currency = el.getAttribute("data-currency");
    try {
      var money = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
      var digits = money.resolvedOptions().maximumFractionDigits;
      el.textContent = money.format(minor / Math.pow(10, digits));
    } catch (e) { /* an unknown currency code: the server's text stays */ }
  }

  function formatTime(el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when.getTime())) {
      el.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  }

  function formatAll(root) {
    root.querySelectorAll("[data-num]").forEach(formatNumber);
    root.querySelectorAll("[data-money]").forEach(formatMoney);
    root.querySelectorAll("time[data-format]").forEach(formatTime);
  }

  function rememberTimeZone() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) {
        document.cookie = "wh_tz=" + encodeURIComponent(zone) +
          "; path=/; SameSite=Strict; max-age=31536000";
      }
    } catch (e) { /* UTC, then */ }
  }

  function LiveStock(status) {
    this.status = status;
    this.source = null;
    this.location = null;
    this.dropped = false;
    this.unseen = 0;
  }

  LiveStock.prototype.say = function (state, text) {
    this.status.setAttribute("data-state", state);
    this.status.textContent = text;
  };

  LiveStock.prototype.follow = function (table) {
    var location = table ? table.getAttribute("data-location") || "" : null;
    if (location === this.location && this.source) { return; }
    if (this.source) { this.source.close(); }
    this.location = location;
    this.unseen = 0;
    if (location === null) { return; }
    /* Resume after the feed position the rows were read at: a change committed while the page
       loaded arrives on the stream instead of being lost between the two. */
    var params = new URLSearchParams();
    if (location) { params.set("location", location); }
    var after = table.getAttribute("data-after");
    if (after && /^[0-9]+$/.test(after)) { params.set("after", after); }
    var query = params.toString();
    var url = "/api/v1/stream/stock" + (query ? "?" + query : "");
    var self = this;
    var source = new EventSource(url);
    this.source = source;
    source.onopen = function () {
      self.say("live", self.dropped
        ? "Live again: resumed where the connection dropped; nothing was missed."
        : "Live: the numbers change as stock moves.");
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        self.say("lost", "Live updates stopped (signed out?). Reload the page.");
      } else {
        self.dropped = true;
        self.say("lost", "Connection lost: reconnecting… changes made meanwhile will follow.");
      }
    };
    source.addEventListener("stock", function (event) { self.apply(JSON.parse(event.data)); });
    source.addEventListener("reset", function () {
      self.dropped = true;
      self.say("lost", "The live feed fell behind: catching up…");
    });
  };

  LiveStock.prototype.apply = function (change) {
    var key = change.sku + "|" + change.location + "|" + (change.lot || "");
    var row = document.querySelector('tr[data-key="' + CSS.escape(key) + '"]');
    if (!row) {
      this.unseen += 1;
      this.say("live", "Live: " + numbers.format(this.unseen) +
        " change(s) to rows not on this page; search again to see them.");
      return;
    }
    ["on_hand", "reserved", "available"].forEach(function (field) {
      var cell = row.querySelector('[data-field="' + field + '"]');
      if (cell && cell.getAttribute("data-num") !== String(change[field])) {
        cell.setAttribute("data-num", change[field]);
        formatNumber(cell);
        cell.classList.remove("changed");
        void cell.offsetWidth; /* restart the highlight */
        cell.classList.add("changed");
        cell.setAttribute("title", "changed " + new Date().toLocaleTimeString());
      }
    });
  };

  document.addEventListener("DOMContentLoaded", function () {
    rememberTimeZone();
    formatAll(document);
    var status = document.getElementById("live");
    if (!status) { return; }
    if (!window.EventSource) {
      status.textContent = "Live updates need a newer browser; reload to refresh.";
      return;
    }
    var live = new LiveStock(status);
    live.follow(document.querySelector("table[data-live-stock]"));
    document.body.addEventListener("htmx:afterSwap", function (event) {
      formatAll(event.detail.target.parentNode || document);
      live.follow(document.querySelector("table[data-live-stock]"));
    });
  });
}());
