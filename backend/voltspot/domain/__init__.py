"""Pure rules: no Flask, no sockets, no database."""
