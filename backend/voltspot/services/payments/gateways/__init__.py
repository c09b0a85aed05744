"""The payment providers behind :class:`~voltspot.services.payments.gateways.base.PaymentGateway`:
the demo gateway and Stripe. Nothing outside this package knows a provider's API."""
