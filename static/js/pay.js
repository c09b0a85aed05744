/* The payment page: Stripe's Payment Element confirms the hold, then Stripe sends the
   driver back to our return URL, where the server checks the hold before starting. */
(function () {
  var form = document.getElementById("pay-form");
  if (!form || !window.Stripe) { return; }
  var stripe = Stripe(form.dataset.key);
  var elements = stripe.elements({clientSecret: form.dataset.secret});
  elements.create("payment").mount("#payment-element");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = document.getElementById("pay-button");
    button.disabled = true;
    stripe.confirmPayment({elements: elements, confirmParams: {return_url: form.dataset.return}})
      .then(function (result) {
        if (result.error) {
          document.getElementById("pay-error").textContent =
            result.error.message + " Nothing was held; you can try again.";
          button.disabled = false;
        }
      });
  });
})();
