"""OCPI 2.2.1 roaming, Voltspot in the CPO role: partners and the credentials handshake,
our locations and tariffs as OCPI objects, tokens the eMSPs push, their commands, and the
durable outbox that carries every push (location and EVSE changes, sessions, CDRs,
command results) to them."""
