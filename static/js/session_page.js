/* The session page: this device remembers the session, so "My sessions" can bring the
   driver back to it. The token and the label come from the page's
   [data-vs-remember-session] element. Loaded in the page's `scripts` block, so it runs
   again after each boosted navigation. */
(function () {
  "use strict";
  var element = document.querySelector("[data-vs-remember-session]");
  if (element && window.Voltspot) {
    Voltspot.rememberSession(element.getAttribute("data-vs-remember-session"),
                             element.getAttribute("data-label"));
  }
})();
