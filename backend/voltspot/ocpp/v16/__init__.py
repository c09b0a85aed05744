"""OCPP 1.6J: incoming handlers translate onto services."""
