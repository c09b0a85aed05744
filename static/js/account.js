/* Driver accounts: a sign-in form carries the tokens of the sessions this device started
   (kept by app.js), so that the account keeps them too. */
(function () {
  "use strict";
  var field = document.querySelector("[data-vs-device-sessions]");
  if (field && window.Voltspot) {
    field.value = Voltspot.sessions().map(function (s) { return s.token; }).join(" ");
  }
})();
