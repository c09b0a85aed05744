/* The sticker sheet's Print button: note the sheet as printed (so a later price change
   can say which stickers went out of date), then open the browser's print dialog.
   Without JavaScript the form posts by itself and the page says to print. */
(function () {
  "use strict";
  if (window.__vsStickerPrint) { return; }
  window.__vsStickerPrint = true;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-vs-print-form]")) { return; }
    event.preventDefault();
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"X-Voltspot-Print": "1"}})
      .catch(function () { return null; })
      .then(function () {
        form.setAttribute("data-printed", "yes");
        window.print();
      });
  });
})();
