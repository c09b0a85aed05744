/* The Bootstrap colour theme follows the phone's light or dark setting. Loaded in <head>
   before any CSS, and not deferred, so a dark phone never flashes white. */
(function () {
  "use strict";
  var dark = window.matchMedia("(prefers-color-scheme: dark)");
  function apply() {
    document.documentElement.setAttribute("data-bs-theme", dark.matches ? "dark" : "light");
  }
  apply();
  dark.addEventListener("change", apply);
})();
