/* Live pages: server-sent events first, polling when they cannot flow.

   A live fragment sits inside an element with sse-connect (htmx's SSE extension) and
   carries hx-trigger="sse:changed, every Ns [Voltspot.polling(this)]": while the event
   stream is open each event refreshes the fragment and the polling stands by; when the
   stream is blocked (a proxy, a network) or drops, polling takes over until it opens
   again. Loaded once per visit, after htmx and its SSE extension. */
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
})();
