/* The tariff editor: the unit beside each amount follows the currency picked (the server
   writes it the same way on the next render). */
(function () {
  "use strict";
  var select = document.getElementById("field-currency");
  if (!select) return;
  var signs = JSON.parse(select.getAttribute("data-signs"));
  var sign = function () { return signs[select.value] || select.value; };
  var current = sign();
  select.addEventListener("change", function () {
    var next = sign();
    document.querySelectorAll("#tariff-form .input-group-text").forEach(function (el) {
      el.textContent = el.textContent.split(current).join(next);
    });
    current = next;
  });
})();
