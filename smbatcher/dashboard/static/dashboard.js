// smb dashboard: live sections over server-sent events, elapsed times, reconnect on silence.
// No framework, no build step: the server renders every section (escaped) and pushes it whole.
"use strict";
(function () {
  var HEARTBEAT_MS = 5000;
  var SILENCE_MS = 3 * HEARTBEAT_MS + 1000; // three missed heartbeats: the connection is dead
  var live = document.getElementById("live");
  var source = null;
  var lastHeard = 0;
  var shown = {};

  function setState(state, text) {
    if (!live) return;
    live.setAttribute("data-state", state);
    var label = live.querySelector(".live-text");
    if (label) label.textContent = " " + text;
  }

  function format(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + "s";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m" + String(seconds % 60).padStart(2, "0") + "s";
    return Math.floor(seconds / 3600) + "h" + String(Math.floor((seconds % 3600) / 60)).padStart(2, "0") + "m";
  }

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = parseFloat(el.getAttribute("data-since"));
      if (since) el.textContent = format(now - since);
    });
    document.querySelectorAll("[data-until]").forEach(function (el) {
      var until = parseFloat(el.getAttribute("data-until"));
      if (until) el.textContent = format(until - now);
    });
    if (source && lastHeard && Date.now() - lastHeard > SILENCE_MS) {
      // A half-open connection never errors: start a new one (the server sends everything again).
      connect();
    }
  }

  function apply(sections) {
    Object.keys(sections).forEach(function (name) {
      var html = sections[name];
      if (shown[name] === html) return; // unchanged: leave the DOM (and open <details>) alone
      document.querySelectorAll('[data-live="' + name + '"]').forEach(function (el) {
        var open = {};
        el.querySelectorAll("details[open] > summary").forEach(function (s) { open[s.textContent] = true; });
        el.innerHTML = html;
        el.querySelectorAll("details > summary").forEach(function (s) {
          if (open[s.textContent]) s.parentNode.setAttribute("open", "");
        });
      });
      shown[name] = html;
    });
    document.body.setAttribute("data-updated", String(Date.now()));
  }

  function connect() {
    var url = document.body.getAttribute("data-stream");
    if (!url || !window.EventSource) return;
    if (source) source.close();
    source = new EventSource(url);
    lastHeard = Date.now();
    source.addEventListener("open", function () { lastHeard = Date.now(); setState("live", "live"); });
    source.addEventListener("update", function (event) {
      lastHeard = Date.now();
      setState("live", "live");
      apply(JSON.parse(event.data).sections || {});
    });
    source.addEventListener("heartbeat", function () { lastHeard = Date.now(); setState("live", "live"); });
    source.addEventListener("error", function () { setState("down", "reconnecting"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    connect();
    setInterval(tick, 1000);
  });
})();
