"""Test helpers, one module per kind: chargers speaking raw OCPP-J frames
(:mod:`.raw_charger`), chargers built on the ``ocpp`` library (:mod:`.library_charger`), HTTP
calls to a live server (:mod:`.http`), waiting and threads (:mod:`.waiting`), OCPP payload
builders (:mod:`.payloads`), the live server and fresh databases (:mod:`.server`), the owner
page (:mod:`.owner`), localstripe (:mod:`.stripe_server`), a 2.0.1 central system for the
simulator (:mod:`.central_system`) and browser checks (:mod:`.browser`). Model rows are built
by ``tests.factories``."""
