"""Load management: a site's grid connection shared among the cars charging there.

``settings``: what owners set (site limit, circuits, station caps, plug priorities);
``allocation``: recompute a site's allocation from the database and apply it to the
chargers; ``loop``: the periodic job that does it for every site; ``intents``: the
smart-charging intents of ChargerControl.
"""
