/* Live pages: server-sent events first, polling when they cannot flow.

   A live fragment sits inside an element with sse-connect (htmx's SSE extension) and
   carries hx-trigger="sse:changed, vs-poll" data-poll-every="N": while the event stream
   is open each event refreshes the fragment and the polling stands by; when the stream is
   blocked (a proxy, a network) or drops, this file sends the fragment a "vs-poll" event
   every N seconds until it opens again. (Not htmx's "every Ns [filter]": a filter is
   evaluated as a string, which the Content-Security-Policy forbids.) Loaded once per
   visit, after htmx and its SSE extension. */
(function () {
  "use strict";

  function source(el) {
    return el.closest ? el.closest("[sse-connect]") : null;
  }

  document.addEventListener("htmx:sseOpen", function (event) {
    var el = source(event.target);
    if (el) el.setAttribute("data-live", "open");
  });

  document.addEventListener("htmx:sseError", function (event) {
    var el = source(event.target);
    if (el) el.removeAttribute("data-live");
  });

  window.Voltspot = window.Voltspot || {};
  /* True while the fragment must poll: no event stream around it, or none open. */
  window.Voltspot.polling = function (el) {
    var stream = source(el);
    return !stream || stream.getAttribute("data-live") !== "open";
  };

  // A fragment swapped in starts its own interval, as htmx's "every" would.
  var lastPoll = new WeakMap();
  window.setInterval(function () {
    var now = Date.now();
    document.querySelectorAll("[data-poll-every]").forEach(function (el) {
      var last = lastPoll.get(el);
      if (last === undefined) {
        lastPoll.set(el, now);
        return;
      }
      if (now - last < 1000 * Number(el.getAttribute("data-poll-every"))) return;
      lastPoll.set(el, now);
      if (window.Voltspot.polling(el) && window.htmx) window.htmx.trigger(el, "vs-poll");
    });
  }, 1000);
})();
