"""OCPP 2.0.1 messages from chargers."""
