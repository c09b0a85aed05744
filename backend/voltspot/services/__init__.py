"""Use cases. Functions take a SQLAlchemy session opened by the edge and never commit;
those that must talk to a charger take the :class:`~voltspot.db.Database` instead and
commit their intent before the call and the outcome after it."""
