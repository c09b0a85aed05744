/* Live pages: server-sent events first, polling when they cannot flow.

   A live fragment sits inside an element with sse-connect (htmx's SSE extension) and
   carries hx-trigger="sse:changed, poll" and data-poll-every="N" (seconds): while the
   event stream is open each event refreshes the fragment and the polling stands by; when
   the stream is blocked (a proxy, a network) or drops, a "poll" event every N seconds
   takes over until it opens again. With data-poll-always the fragment polls even while
   the stream is open: for news the stream does not carry (a payment settling). (Not htmx's "every Ns [filter]": its filter needs
   eval, which the Content-Security-Policy forbids.) Loaded once per visit, after htmx
   and its SSE extension. */
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

  /* A swapped-in fragment is new: its first poll is a full period after it arrived. */
  function due(el, now) {
    var every = Number(el.getAttribute("data-poll-every")) * 1000;
    var since = Number(el.getAttribute("data-polled-at"));
    if (!since) {
      el.setAttribute("data-polled-at", String(now));
      return false;
    }
    return now - since >= every;
  }

  setInterval(function () {
    var now = Date.now();
    document.querySelectorAll("[data-poll-every]").forEach(function (el) {
      if (due(el, now) && (el.hasAttribute("data-poll-always") || window.Voltspot.polling(el))) {
        el.setAttribute("data-polled-at", String(now));
        window.htmx.trigger(el, "poll");
      }
    });
  }, 1000);
})();
