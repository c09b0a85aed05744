"""Many processes, many machines: presence of chargers, command routing to the process
holding a socket, once-only job locks and the event bus; each on Redis, or inside the
process when there is no Redis (see :mod:`voltspot.cluster.wiring`)."""
