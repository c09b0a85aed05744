"""The CSMS side of OCPP-J: one WebSocket endpoint, a translator per protocol version."""
